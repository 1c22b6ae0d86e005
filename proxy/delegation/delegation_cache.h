#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "admin/metrics.h"
#include "base/status.h"
#include "config/config.h"
#include "delegation/interpret.h"
#include "http/https_client.h"
#include "loop/event_loop.h"
#include "loop/timer.h"

namespace deputy {

struct LookupOutcome {
  std::shared_ptr<const Delegation> delegation;
  bool from_cache = false;
};

// DelegationLookup is a pending lookup; destroying it guarantees its callback never runs.
class DelegationLookup : public Deferrable {};

// DelegationCache answers (domain, service) from memory while fresh, else fetches the
// well-known document. Concurrent lookups of one key share a single fetch; failures are never
// cached, so the next client tries again.
class DelegationCache {
 public:
  using Callback = std::function<void(Result<LookupOutcome>)>;
  using Clock = std::chrono::steady_clock;

  DelegationCache(EventLoop& loop, DnsResolver& resolver, SSL_CTX* discovery_ctx,
                  const DiscoveryConfig& config, ConnectTimeouts connect, Metrics& metrics);
  ~DelegationCache();

  // Lookup always answers from the loop, never inside this call.
  std::unique_ptr<DelegationLookup> Lookup(const std::string& domain, const std::string& service,
                                           Callback done);

 private:
  class Waiter;
  struct Flight;
  using Key = std::pair<std::string, std::string>;
  struct Entry {
    std::shared_ptr<const Delegation> delegation;
    Clock::time_point expires;
  };

  void OnFetched(const Key& key, Result<FetchResult> result);
  Result<std::shared_ptr<const Delegation>> Interpret(const Key& key,
                                                      const Result<FetchResult>& result);
  void Store(const Key& key, std::shared_ptr<const Delegation> delegation);

  EventLoop& loop_;
  DnsResolver& resolver_;
  SSL_CTX* ctx_;
  DiscoveryConfig config_;
  FetchLimits limits_;
  Metrics& metrics_;
  std::map<Key, Entry> entries_;
  std::map<Key, std::unique_ptr<Flight>> flights_;
};

}  // namespace deputy
