#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "net/address.h"
#include "net/dns_cache.h"
#include "net/dns_channel.h"
#include "net/dns_message.h"
#include "net/dns_observer.h"

namespace deputy {

// DnsSettings is what a resolver is told by the configuration (`dns.*`).
struct DnsSettings {
  // Names answered from here, before /etc/hosts and the name servers; keys are lower-case.
  std::map<std::string, std::vector<std::string>> hosts;
  std::vector<IpEndpoint> servers;  // empty: the name servers of /etc/resolv.conf
  uint32_t timeout_ms = 5000;       // one query, every attempt at every server included
  uint32_t attempts = 2;            // rounds over the name servers
  DnsCacheLimits cache;
  // Queries this resolver lets run at once; more are refused at once, not queued.
  uint32_t max_inflight_queries = 512;
};

// DnsQuery is one pending lookup; destroying it guarantees its callback never runs. From
// inside its own callback, hand it to EventLoop::DeferDelete instead.
class DnsQuery : public Deferrable {};

// DnsResolver turns names into records without blocking the loop. IP literals and configured
// static hosts are answered from memory, then /etc/hosts, then the cache, then the name servers
// through c-ares on the loop, each name as an absolute one. Lookups of the same (name, type)
// share one query (so one name has at most one query per type in flight), which is cancelled
// when no lookup waits for it any more. A lookup waits on nothing but its own query, so names
// whose server never answers hold no thread and delay no other lookup. One per loop, used from
// its thread only; every callback runs from the loop, never inside the call that asked.
class DnsResolver {
 public:
  using AddressesCallback = std::function<void(Result<std::vector<IpEndpoint>>)>;
  using AnswerCallback = std::function<void(Result<DnsAnswer>)>;

  // A resolver whose c-ares channel cannot start answers every lookup that needs a name server
  // with status(); the caller decides whether that is fatal.
  DnsResolver(EventLoop& loop, DnsSettings settings, DnsObserver* observer = nullptr);
  ~DnsResolver();
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  const Status& status() const { return broken_; }

  // Resolve looks up the IPv6 and IPv4 addresses of `host` (lower-case) in parallel, and gives
  // them with `port`, the families alternating and IPv6 first (RFC 8305 section 4).
  std::unique_ptr<DnsQuery> Resolve(const std::string& host, uint16_t port, AddressesCallback done);
  // Lookup asks for one (name, type), through the cache. NXDOMAIN and NODATA are answers;
  // timeouts, server failures and malformed responses are errors.
  std::unique_ptr<DnsQuery> Lookup(const std::string& name, DnsType type, AnswerCallback done);

  // HasStaticHost reports whether `host` (lower-case) is one of the configured static hosts.
  bool HasStaticHost(const std::string& host) const { return settings_.hosts.contains(host); }

  // Reconfigure applies new settings to lookups that start from now on (a reload); those under
  // way keep theirs. New name servers, attempts or timeout take a new channel (and empty the
  // cache when the servers change); when it cannot start, the old one stays and the reason is
  // returned.
  Status Reconfigure(DnsSettings settings);

  size_t cached() const { return cache_.size(); }

 private:
  class Flight;
  class TypeLookup;
  class AddressLookup;
  friend class TypeLookup;

  static Result<std::unique_ptr<DnsChannel>> OpenChannel(EventLoop& loop,
                                                         const DnsSettings& settings);
  void Start(TypeLookup& lookup);
  void Leave(TypeLookup& lookup);
  void Finish(Flight& flight, Result<DnsAnswer> result, DnsQueryResult outcome);
  void Sweep();
  bool InUse(const DnsChannel& channel) const;
  void CountEntries();
  uint64_t now_ms() const;

  EventLoop& loop_;
  DnsSettings settings_;
  DnsObserver* observer_;
  // Channels before flights: a flight's query belongs to a channel and must go first.
  std::unique_ptr<DnsChannel> channel_;
  std::vector<std::unique_ptr<DnsChannel>> retired_;  // replaced by a reload, still answering
  Status broken_;
  DnsCache cache_;
  size_t counted_entries_ = 0;
  std::map<std::string, std::unique_ptr<Flight>> flights_;
  // Flights that ended wait here for the next turn of the loop: they end inside c-ares' or
  // their own timer's callback, where neither may be destroyed.
  std::vector<std::unique_ptr<Flight>> ended_;
  Timer sweep_;
};

}  // namespace deputy
