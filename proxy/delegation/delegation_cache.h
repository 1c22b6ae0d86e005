#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "delegation/cache_index.h"
#include "delegation/cache_observer.h"
#include "delegation/discovery_settings.h"
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
// well-known document. It is one per process and every worker thread uses it: a lookup runs on
// its caller's loop, and a fetch on the loop of the lookup that started it. Concurrent lookups
// of one key, from any worker, share a single fetch; the waiters on other loops get the answer
// posted to their own. The fetch is cancelled as soon as its last waiter goes. At most
// discovery.max_inflight_fetches fetches run at once (max_inflight_fetches_per_domain for names
// under one registrable domain), and a lookup that would need one more is refused. Failures
// are never cached, so the next client tries again. What it holds is bounded by CacheIndex,
// with each registrable domain as one share. One mutex guards the index and the flights; it is
// held for map operations only, never across I/O, parsing or a callback. Reconfigure applies a
// reload to the fetches that start after it.
class DelegationCache {
 public:
  using Callback = std::function<void(Result<LookupOutcome>)>;
  using Clock = std::chrono::steady_clock;

  DelegationCache(std::shared_ptr<const DiscoverySettings> settings, CacheObserver& observer);
  // Fetches still running are closed here, which is right only on their loop's thread: with
  // several loops, each calls AbandonFlightsOn before the cache goes.
  ~DelegationCache();
  DelegationCache(const DelegationCache&) = delete;
  DelegationCache& operator=(const DelegationCache&) = delete;

  // Lookup is called on `loop`'s thread and always answers there, never inside this call. A
  // fetch it starts runs on `loop`, resolving names with `resolver`.
  std::unique_ptr<DelegationLookup> Lookup(EventLoop& loop, DnsResolver& resolver,
                                           const std::string& domain, const std::string& service,
                                           Callback done);

  // AbandonFlightsOn ends the fetches running on `loop`, whose thread is stopping: they are
  // closed now and their waiters, on any loop, told so. Called on `loop`'s thread.
  void AbandonFlightsOn(EventLoop& loop);
  // WaitedOnElsewhere tells whether a fetch running on `loop` has a waiter on another loop: a
  // draining worker keeps its loop until they have their answer, rather than fail them.
  bool WaitedOnElsewhere(const EventLoop& loop) const;
  // WatchFetchesOn has `ended` called on `loop`'s thread when a fetch that ran there is answered,
  // or is cancelled by a waiter of another loop; nullptr stops it. Any thread. (One cancelled by
  // a waiter of `loop` itself needs no call: that waiter's owner is running there already.)
  void WatchFetchesOn(const EventLoop& loop, std::function<void()> ended);

  // Reconfigure makes `settings` the ones new fetches and the limits use, from any thread. The
  // cache is flushed when url_template or the trust anchors changed (answers got another way
  // are not the ones asked for now); lifetime bounds apply to answers stored from now on.
  // Returns whether it flushed.
  bool Reconfigure(std::shared_ptr<const DiscoverySettings> settings);

  size_t fetches_in_flight() const;

  // CachedEntry is one entry as an operator inspects it (admin's /debug/delegations).
  struct CachedEntry {
    std::string domain;
    std::string service;
    std::shared_ptr<const Delegation> delegation;
    double age_s = 0;        // since it was stored
    double remaining_s = 0;  // until it expires; negative once it has (held until dropped)
  };
  // Entries copies what the cache holds now, in key order, under the lock but without I/O.
  std::vector<CachedEntry> Entries() const;

 private:
  class Waiter;
  struct Link;
  struct Flight;
  using Key = CacheIndex::Key;
  // A flight is of one key and one source: after a flush, lookups of a key never join a fetch
  // from where the cache no longer looks.
  using FlightKey = std::pair<Key, uint64_t>;

  void OnFetched(Flight* flight, Result<FetchResult> result, DnsResolver& resolver);
  // Detach removes a flight from the table, under the lock, and returns its ownership.
  std::unique_ptr<Flight> Detach(Flight* flight);
  // Unlink is a waiter leaving; the last one to leave an unfinished flight cancels it.
  void Unlink(const std::shared_ptr<Link>& link);
  // Discard destroys a cancelled flight's fetch on the loop it runs on; `current` is the
  // calling thread's loop.
  void Discard(EventLoop& current, std::unique_ptr<Flight> flight);
  Result<std::shared_ptr<const Delegation>> Interpret(const Flight& flight, DnsResolver& resolver,
                                                      const Result<FetchResult>& result);
  // Deliver hands `result` to every waiter of a finished flight, each on its own loop.
  static void Deliver(EventLoop& current, std::vector<std::shared_ptr<Link>> waiters,
                      const Result<LookupOutcome>& result);
  // The members below marked "locked" are read and written with mutex_ held.
  void StoreLocked(const Key& key, const std::string& share,
                   std::shared_ptr<const Delegation> delegation);
  void ReportFlightsLocked();
  void ReportSizeLocked();
  // RefusalLocked returns why a new fetch for `share` may not start now, or nothing if it may.
  std::optional<Status> RefusalLocked(const std::string& share) const;
  static CacheIndex::Limits IndexLimits(const DiscoveryConfig& config);
  // ForgetLocked drops a finished or cancelled flight from the per-share count.
  void ForgetLocked(const Flight& flight);
  // FetchEnded runs the watcher of `loop` (WatchFetchesOn), on its thread.
  void FetchEnded(const EventLoop& loop);

  CacheObserver& observer_;
  const PublicSuffixList public_suffixes_;
  mutable std::mutex mutex_;
  std::shared_ptr<const DiscoverySettings> settings_;  // locked
  uint64_t source_ = 0;  // locked; counts the flushes: the source new flights fetch from
  CacheIndex entries_;   // locked
  std::map<FlightKey, std::unique_ptr<Flight>> flights_;              // locked
  std::map<std::string, size_t, std::less<>> flights_per_share_;      // locked
  std::map<const EventLoop*, std::function<void()>> fetch_watchers_;  // locked
};

}  // namespace deputy
