#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "delegation/cache_observer.h"
#include "delegation/interpret.h"

namespace deputy {

// CacheIndex holds delegations by (domain, service) within three bounds: entries, an estimate
// of the bytes they hold, and entries per share. A share is what the caller says an entry counts
// against (deputy uses the registrable domain, so "a.example.org" and "b.example.org" share).
// Beyond a share's bound that share's own least recently used entry goes, so one domain
// publishing (or being asked for) many names cannot flush everyone else's; beyond the global
// bounds the least recently used entry goes. Expired entries
// count until they are dropped, which happens on every Insert and when Find meets one. Time is
// passed in, so the index is plain data.
class CacheIndex {
 public:
  using Clock = std::chrono::steady_clock;
  using Key = std::pair<std::string, std::string>;  // (domain, service)
  using EvictionSink = std::function<void(EvictionReason)>;

  struct Limits {
    size_t max_entries = 10000;
    size_t max_bytes = 64 * 1024 * 1024;
    size_t max_per_domain = 64;
  };

  // Fixed cost charged per entry on top of its strings: the index's nodes (map, two lists,
  // expiry order), the Delegation and its shared_ptr control block; and per target.
  static constexpr size_t kEntryOverhead = 384;
  static constexpr size_t kTargetOverhead = sizeof(Target);

  CacheIndex(Limits limits, EvictionSink on_evict);
  CacheIndex(const CacheIndex&) = delete;
  CacheIndex& operator=(const CacheIndex&) = delete;

  // Find returns the entry for `key` while it is fresh at `now` and makes it the most recently
  // used; an expired entry is dropped and Find returns null.
  std::shared_ptr<const Delegation> Find(const Key& key, Clock::time_point now);

  // Insert stores `delegation` until `expires`, counted against `share` (replacing an entry of
  // the same key), then evicts until every bound holds again. An entry larger than max_bytes on
  // its own is not stored.
  void Insert(const Key& key, const std::string& share,
              std::shared_ptr<const Delegation> delegation, Clock::time_point expires,
              Clock::time_point now);

  // SetLimits changes the bounds (a reload): entries expired at `now` go first, then the least
  // recently used until the bounds hold.
  void SetLimits(Limits limits, Clock::time_point now);
  // Clear removes every entry, each counted as evicted for `reason`.
  void Clear(EvictionReason reason);

  // Visitor sees one entry: its key, delegation, when it was stored and when it expires.
  using Visitor = std::function<void(const Key&, const std::shared_ptr<const Delegation>&,
                                     Clock::time_point stored, Clock::time_point expires)>;
  // ForEach visits every entry held, expired ones included, in key order; it changes nothing.
  void ForEach(const Visitor& visit) const;

  size_t size() const { return nodes_.size(); }
  size_t bytes() const { return bytes_; }
  size_t ShareSize(const std::string& share) const;

  // EstimateBytes is what one entry is charged: its key and targets' strings plus the fixed
  // overheads above.
  static size_t EstimateBytes(const Key& key, const Delegation& delegation);

 private:
  struct Node;
  using Nodes = std::map<Key, Node>;
  using Order = std::list<Nodes::iterator>;  // front: most recently used
  using Expiry = std::multimap<Clock::time_point, Nodes::iterator>;
  using Shares = std::map<std::string, Order, std::less<>>;

  struct Node {
    std::shared_ptr<const Delegation> delegation;
    size_t bytes = 0;
    Clock::time_point stored;
    Order::iterator recency;
    Shares::iterator share;
    Order::iterator share_recency;
    Expiry::iterator expiry;
  };

  void Touch(Nodes::iterator node);
  void Erase(Nodes::iterator node, std::optional<EvictionReason> reason);
  void DropExpired(Clock::time_point now);
  // Enforce evicts until every bound holds: over a share's bound that share's least recently
  // used entry goes, then the least recently used of all.
  void Enforce();

  Limits limits_;
  EvictionSink on_evict_;
  Nodes nodes_;
  Order recency_;
  Shares shares_;
  Expiry expiry_;
  size_t bytes_ = 0;
};

}  // namespace deputy
