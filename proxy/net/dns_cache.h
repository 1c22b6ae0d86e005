#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>

#include "net/dns_message.h"

namespace deputy {

// How long and how many answers a DnsCache keeps.
struct DnsCacheLimits {
  uint32_t min_ttl_s = 0;
  uint32_t max_ttl_s = 300;
  uint32_t max_negative_ttl_s = 30;
  size_t max_entries = 10000;
};

// DnsCache keeps name servers' answers for their TTL, clamped to the limits: records for
// [min_ttl_s, max_ttl_s], NXDOMAIN and NODATA for [min_ttl_s, max_negative_ttl_s] when the
// server sent an SOA to time them by (RFC 2308), never otherwise. Bounded in entries; the least
// recently used goes first. Times are the caller's milliseconds (the loop's clock), so it has
// no clock of its own. One per loop, used from its thread only.
class DnsCache {
 public:
  struct Entry {
    DnsAnswer answer;
    uint64_t expires_ms = 0;
  };

  explicit DnsCache(DnsCacheLimits limits) : limits_(limits) {}

  // Find returns the answer for (name, type) while it is fresh at `now_ms`, or nullptr (an
  // expired one is dropped). The pointer is valid until the next call that changes the cache.
  const Entry* Find(const std::string& name, DnsType type, uint64_t now_ms);
  // Store keeps `answer` for its clamped TTL; false when that is 0 or it has none.
  bool Store(const std::string& name, DnsType type, DnsAnswer answer, uint64_t now_ms);
  // KeptForS is how long Store would keep `answer`, in seconds.
  uint32_t KeptForS(const DnsAnswer& answer) const;
  // SetLimits applies new limits to what is stored from now on, and evicts down to the new
  // bound; entries keep the lifetimes they were given.
  void SetLimits(DnsCacheLimits limits);
  void Clear();
  size_t size() const { return index_.size(); }

 private:
  struct Node {
    std::string key;
    Entry entry;
  };
  static std::string KeyOf(const std::string& name, DnsType type);
  void EvictDownTo(size_t entries);

  DnsCacheLimits limits_;
  std::list<Node> recency_;  // most recently used first
  std::unordered_map<std::string, std::list<Node>::iterator> index_;
};

}  // namespace deputy
