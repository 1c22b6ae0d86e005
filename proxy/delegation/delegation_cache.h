#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "delegation/cache_index.h"
#include "delegation/cache_observer.h"
#include "delegation/interpret.h"
#include "http/https_client.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "net/public_suffix.h"

namespace deputy {

struct LookupOutcome {
  std::shared_ptr<const Delegation> delegation;
  bool from_cache = false;
};

// DelegationLookup is a pending lookup; destroying it guarantees its callback never runs.
class DelegationLookup : public Deferrable {};

// DelegationCache answers (domain, service) from memory while fresh, else fetches the
// well-known document. Concurrent lookups of one key share a single fetch, which is cancelled
// as soon as its last waiter goes; at most discovery.max_inflight_fetches fetches run at once
// (max_inflight_fetches_per_domain for names under one registrable domain), and a lookup that
// would need one more is refused. Failures are never cached, so the next client tries again.
// What it holds is bounded by CacheIndex, with each registrable domain as one share.
class DelegationCache {
 public:
  using Callback = std::function<void(Result<LookupOutcome>)>;
  using Clock = std::chrono::steady_clock;

  DelegationCache(EventLoop& loop, DnsResolver& resolver, const DestinationGuard& guard,
                  SSL_CTX* discovery_ctx, const DiscoveryConfig& config, ConnectTimeouts connect,
                  CacheObserver& observer);
  ~DelegationCache();

  // Lookup always answers from the loop, never inside this call.
  std::unique_ptr<DelegationLookup> Lookup(const std::string& domain, const std::string& service,
                                           Callback done);

  size_t fetches_in_flight() const { return flights_.size(); }

 private:
  class Waiter;
  struct Flight;
  using Key = CacheIndex::Key;

  void OnFetched(const Key& key, Result<FetchResult> result);
  void Cancel(Flight* flight);
  Result<std::shared_ptr<const Delegation>> Interpret(const Key& key,
                                                      const Result<FetchResult>& result);
  void Store(const Key& key, const std::string& share,
             std::shared_ptr<const Delegation> delegation);
  void ReportSize();
  // Refusal returns why a new fetch for `share` may not start now, or nothing if it may.
  std::optional<Status> Refusal(const std::string& share) const;
  // Forget drops a finished or cancelled flight from the per-share count.
  void Forget(const Flight& flight);

  EventLoop& loop_;
  DnsResolver& resolver_;
  const DestinationGuard& guard_;
  SSL_CTX* ctx_;
  DiscoveryConfig config_;
  FetchLimits limits_;
  CacheObserver& observer_;
  PublicSuffixList public_suffixes_;
  CacheIndex entries_;
  std::map<Key, std::unique_ptr<Flight>> flights_;
  std::map<std::string, size_t, std::less<>> flights_per_share_;
};

}  // namespace deputy
