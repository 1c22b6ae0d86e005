#include "delegation/delegation_cache.h"

#include <algorithm>

#include "base/run_once.h"
#include "log/warning_limiter.h"

namespace deputy {

// Link is a waiter as its flight sees it, shared between the two: `loop`, `done` and `alive`
// belong to the waiter's loop thread; `flight` is guarded by the cache's mutex.
struct DelegationCache::Link {
  EventLoop* loop = nullptr;
  Callback done;
  bool alive = true;
  Flight* flight = nullptr;
};

class DelegationCache::Waiter : public DelegationLookup {
 public:
  Waiter(EventLoop& loop, DelegationCache& cache, Callback done)
      : cache_(cache),
        link_(std::make_shared<Link>()),
        timer_(loop, [this] { RunOnce(link_->done, std::move(*ready_)); }) {
    link_->loop = &loop;
    link_->done = std::move(done);
  }
  ~Waiter() override {
    link_->alive = false;
    link_->done = nullptr;
    cache_.Unlink(link_);
  }

  // AnswerLater delivers a known result on the next loop turn.
  void AnswerLater(Result<LookupOutcome> result) {
    ready_.emplace(std::move(result));
    timer_.Start(0);
  }

  const std::shared_ptr<Link>& link() const { return link_; }

 private:
  DelegationCache& cache_;
  std::shared_ptr<Link> link_;
  Timer timer_;
  std::optional<Result<LookupOutcome>> ready_;
};

struct DelegationCache::Flight {
  Key key;
  std::shared_ptr<const DiscoverySettings> settings;  // what it was started with
  uint64_t source = 0;                                // the cache's source_ then
  std::string share;                                  // the registrable domain of key.first
  EventLoop* loop = nullptr;                          // where the fetch runs
  std::unique_ptr<HttpsFetch> fetch;
  std::vector<std::shared_ptr<Link>> waiters;
  Clock::time_point started;
  // Set once the fetch has answered: waiters may still join until the answer is stored, and
  // nothing is left to cancel.
  bool finished = false;
};

namespace {

FetchLimits LimitsOf(const DiscoverySettings& settings) {
  FetchLimits limits;
  limits.timeout_ms = settings.config.timeout_ms;
  limits.max_body_bytes = settings.config.max_document_bytes;
  limits.max_redirects = settings.config.max_redirects;
  limits.connect = settings.connect;
  return limits;
}

// SameSource tells whether answers fetched with `a` are what `b` would fetch: the same URLs,
// trusted through the same anchors.
bool SameSource(const DiscoverySettings& a, const DiscoverySettings& b) {
  return a.config.url_template == b.config.url_template && a.ca_fingerprint == b.ca_fingerprint;
}

}  // namespace

CacheIndex::Limits DelegationCache::IndexLimits(const DiscoveryConfig& config) {
  return CacheIndex::Limits{config.cache_max_entries, config.cache_max_bytes,
                            config.max_entries_per_domain};
}

DelegationCache::DelegationCache(std::shared_ptr<const DiscoverySettings> settings,
                                 CacheObserver& observer)
    : observer_(observer),
      settings_(std::move(settings)),
      entries_(IndexLimits(settings_->config),
               [this](EvictionReason reason) { observer_.OnEviction(reason); }) {
  if (!public_suffixes_.loaded()) {
    spdlog::warn(
        "no Public Suffix List (install Debian's publicsuffix package): per-domain cache shares "
        "and fetch limits count each exact name, so subdomains of one domain are not grouped");
  }
}

bool DelegationCache::Reconfigure(std::shared_ptr<const DiscoverySettings> settings) {
  std::lock_guard lock(mutex_);
  const bool flush = !SameSource(*settings, *settings_);
  if (flush) {
    entries_.Clear(EvictionReason::kReload);
    ++source_;
  }
  entries_.SetLimits(IndexLimits(settings->config), Clock::now());
  settings_ = std::move(settings);
  ReportSizeLocked();
  return flush;
}

DelegationCache::~DelegationCache() {
  std::lock_guard lock(mutex_);
  for (auto& [key, flight] : flights_) {
    for (const std::shared_ptr<Link>& link : flight->waiters) link->flight = nullptr;
  }
}

std::unique_ptr<DelegationLookup> DelegationCache::Lookup(EventLoop& loop, DnsResolver& resolver,
                                                          const std::string& domain,
                                                          const std::string& service,
                                                          Callback done) {
  auto waiter = std::make_unique<Waiter>(loop, *this, std::move(done));
  Key key{domain, service};
  std::unique_lock lock(mutex_);
  if (std::shared_ptr<const Delegation> cached = entries_.Find(key, Clock::now())) {
    lock.unlock();
    bool negative = cached->kind == Delegation::Kind::kNotDelegated;
    observer_.OnLookup(negative ? LookupResult::kNegative : LookupResult::kHit);
    waiter->AnswerLater(LookupOutcome{std::move(cached), true});
    return waiter;
  }
  ReportSizeLocked();  // Find drops an expired entry
  auto flight = flights_.find({key, source_});
  if (flight != flights_.end()) {
    waiter->link()->flight = flight->second.get();
    flight->second->waiters.push_back(waiter->link());
    return waiter;
  }
  // Joining a flight costs nothing more; only a new fetch is refused at the limit.
  std::string share = public_suffixes_.RegistrableDomain(domain);
  if (std::optional<Status> refused = RefusalLocked(share)) {
    lock.unlock();
    observer_.OnLookup(LookupResult::kLimit);
    waiter->AnswerLater(std::move(*refused));
    return waiter;
  }
  std::string url = ExpandUrlTemplate(settings_->config.url_template, domain, service);
  Result<HttpsUrl> parsed = ParseHttpsUrl(url);
  if (!parsed.ok()) {
    lock.unlock();
    observer_.OnLookup(LookupResult::kError);
    waiter->AnswerLater(Status(ErrorCode::kInvalidConfig,
                               "url_template gives an invalid URL: " + parsed.status().message()));
    return waiter;
  }
  auto started = std::make_unique<Flight>();
  Flight* raw = started.get();
  started->key = key;
  started->settings = settings_;
  started->source = source_;
  started->share = std::move(share);
  started->loop = &loop;
  started->started = Clock::now();
  ++flights_per_share_[started->share];
  const DiscoverySettings& settings = *started->settings;
  started->fetch = std::make_unique<HttpsFetch>(loop, resolver, *settings.guard,
                                                settings.tls->get(), LimitsOf(settings));
  waiter->link()->flight = raw;
  started->waiters.push_back(waiter->link());
  flights_.emplace(FlightKey{key, source_}, std::move(started));
  ReportFlightsLocked();
  // Start answers from the loop, so nothing else can reach this flight before it returns but
  // other threads, which only join it; the fetch itself is this thread's.
  HttpsFetch* fetch = raw->fetch.get();
  lock.unlock();
  fetch->Start(*parsed, [this, raw, &resolver](Result<FetchResult> result) {
    OnFetched(raw, std::move(result), resolver);
  });
  return waiter;
}

std::vector<DelegationCache::CachedEntry> DelegationCache::Entries() const {
  using Seconds = std::chrono::duration<double>;
  std::vector<CachedEntry> entries;
  const Clock::time_point now = Clock::now();
  std::lock_guard lock(mutex_);
  entries.reserve(entries_.size());
  entries_.ForEach([&](const Key& key, const std::shared_ptr<const Delegation>& delegation,
                       Clock::time_point stored, Clock::time_point expires) {
    entries.push_back({key.first, key.second, delegation, Seconds(now - stored).count(),
                       Seconds(expires - now).count()});
  });
  return entries;
}

size_t DelegationCache::fetches_in_flight() const {
  std::lock_guard lock(mutex_);
  return flights_.size();
}

std::unique_ptr<DelegationCache::Flight> DelegationCache::Detach(Flight* flight) {
  auto it = flights_.find({flight->key, flight->source});
  if (it == flights_.end() || it->second.get() != flight) return nullptr;
  std::unique_ptr<Flight> owned = std::move(it->second);
  flights_.erase(it);
  ForgetLocked(*owned);
  return owned;
}

void DelegationCache::Unlink(const std::shared_ptr<Link>& link) {
  std::unique_lock lock(mutex_);
  Flight* flight = link->flight;
  if (flight == nullptr) return;
  link->flight = nullptr;
  auto& waiters = flight->waiters;
  waiters.erase(std::remove(waiters.begin(), waiters.end(), link), waiters.end());
  if (!waiters.empty() || flight->finished) return;
  std::unique_ptr<Flight> cancelled = Detach(flight);
  ReportFlightsLocked();
  lock.unlock();
  if (!cancelled) return;
  spdlog::debug("delegation lookup for {}/{} cancelled: every waiter left", cancelled->key.first,
                cancelled->key.second);
  observer_.OnFetch("cancelled");
  Discard(*link->loop, std::move(cancelled));
}

void DelegationCache::Discard(EventLoop& current, std::unique_ptr<Flight> flight) {
  // Destroying the fetch closes its socket now, before another byte is read. It cannot be
  // inside its own callback here: that callback is OnFetched, which marks the flight finished
  // before any waiter can go, and a finished flight is never cancelled.
  if (flight->loop == &current) return;  // destroyed here, on its own loop
  // The fetch belongs to another worker's loop; it is closed there. Its callback may still run
  // first: OnFetched then finds the flight gone. Its last waiter was elsewhere, so its loop's
  // watcher hears of it.
  EventLoop* owner = flight->loop;
  owner->Post([this, owner, cancelled = std::shared_ptr<Flight>(std::move(flight))]() mutable {
    cancelled.reset();
    FetchEnded(*owner);
  });
}

void DelegationCache::FetchEnded(const EventLoop& loop) {
  std::function<void()> watcher;
  {
    std::lock_guard lock(mutex_);
    auto found = fetch_watchers_.find(&loop);
    if (found == fetch_watchers_.end()) return;
    watcher = found->second;
  }
  watcher();
}

bool DelegationCache::WaitedOnElsewhere(const EventLoop& loop) const {
  std::lock_guard lock(mutex_);
  for (const auto& [key, flight] : flights_) {
    if (flight->loop != &loop) continue;
    for (const std::shared_ptr<Link>& link : flight->waiters) {
      if (link->loop != &loop) return true;
    }
  }
  return false;
}

void DelegationCache::WatchFetchesOn(const EventLoop& loop, std::function<void()> ended) {
  std::lock_guard lock(mutex_);
  if (ended) {
    fetch_watchers_[&loop] = std::move(ended);
  } else {
    fetch_watchers_.erase(&loop);
  }
}

void DelegationCache::OnFetched(Flight* flight, Result<FetchResult> result, DnsResolver& resolver) {
  {
    std::lock_guard lock(mutex_);
    auto it = flights_.find({flight->key, flight->source});
    if (it == flights_.end() || it->second.get() != flight) return;  // cancelled from elsewhere
    // Lookups of this key keep joining until the answer is stored, so none starts a second
    // fetch while this one is interpreted.
    flight->finished = true;
  }
  EventLoop& loop = *flight->loop;
  observer_.OnFetchDuration(std::chrono::duration<double>(Clock::now() - flight->started).count());
  Result<std::shared_ptr<const Delegation>> delegation = Interpret(*flight, resolver, result);

  std::unique_lock lock(mutex_);
  std::unique_ptr<Flight> done = Detach(flight);
  // An answer fetched from where a reload no longer looks goes to the lookups that were
  // waiting for it, and is never kept.
  if (delegation.ok() && done->source == source_) {
    StoreLocked(done->key, done->share, *delegation);
  }
  std::vector<std::shared_ptr<Link>> waiters = std::move(done->waiters);
  for (const std::shared_ptr<Link>& link : waiters) link->flight = nullptr;
  ReportFlightsLocked();
  lock.unlock();

  // The fetch is inside its own callback; free it on the next turn.
  loop.DeferDelete(std::move(done->fetch));
  for (size_t i = 0; i < waiters.size(); ++i) {
    observer_.OnLookup(delegation.ok() ? LookupResult::kMiss : LookupResult::kError);
  }
  if (delegation.ok()) {
    Deliver(loop, std::move(waiters), LookupOutcome{*delegation, false});
  } else {
    Deliver(loop, std::move(waiters), delegation.status());
  }
  // Whoever waited: a waiter of another loop may have left while the answer was interpreted.
  FetchEnded(loop);
}

void DelegationCache::Deliver(EventLoop& current, std::vector<std::shared_ptr<Link>> waiters,
                              const Result<LookupOutcome>& result) {
  // A callback may destroy other waiters of this loop; a destroyed one is no longer alive.
  for (const std::shared_ptr<Link>& link : waiters) {
    if (link->loop == &current) {
      if (link->alive) RunOnce(link->done, result);
      continue;
    }
    link->loop->Post([link, result] {
      if (link->alive) RunOnce(link->done, result);
    });
  }
}

void DelegationCache::AbandonFlightsOn(EventLoop& loop) {
  std::vector<std::unique_ptr<Flight>> abandoned;
  {
    std::lock_guard lock(mutex_);
    for (auto it = flights_.begin(); it != flights_.end();) {
      if (it->second->loop != &loop || it->second->finished) {
        ++it;
        continue;
      }
      ForgetLocked(*it->second);
      for (const std::shared_ptr<Link>& link : it->second->waiters) link->flight = nullptr;
      abandoned.push_back(std::move(it->second));
      it = flights_.erase(it);
    }
  }
  for (std::unique_ptr<Flight>& flight : abandoned) {
    flight->fetch.reset();
    observer_.OnFetch("cancelled");
    Deliver(loop, std::move(flight->waiters),
            Status(ErrorCode::kInternal, "deputy is stopping the worker that ran this lookup"));
  }
  if (!abandoned.empty()) {
    std::lock_guard lock(mutex_);
    ReportFlightsLocked();
  }
}

Result<std::shared_ptr<const Delegation>> DelegationCache::Interpret(
    const Flight& flight, DnsResolver& resolver, const Result<FetchResult>& result) {
  const Key& key = flight.key;
  if (!result.ok()) {
    observer_.OnFetch("error");
    WarnLimited("delegation lookup failed", "delegation lookup for {}/{} failed: {}", key.first,
                key.second, result.status().ToString());
    return result.status();
  }
  int status = result->response.status;
  observer_.OnFetch(status >= 100 && status <= 599 ? std::to_string(status) : "invalid");
  std::vector<std::string> skipped;
  Result<std::shared_ptr<const Delegation>> delegation = InterpretResponse(
      *result, flight.settings->config,
      [&resolver](const std::string& host) { return resolver.HasStaticHost(host); }, &skipped);
  for (const std::string& reason : skipped) {
    WarnLimited("delegation document entry skipped", "delegation document {}: skipped {}",
                result->final_url, reason);
  }
  if (!delegation.ok()) {
    WarnLimited("delegation lookup failed", "delegation lookup for {}/{} failed: {}", key.first,
                key.second, delegation.status().ToString());
  }
  return delegation;
}

std::optional<Status> DelegationCache::RefusalLocked(const std::string& share) const {
  const DiscoveryConfig& config = settings_->config;
  if (flights_.size() >= config.max_inflight_fetches) {
    return Status(ErrorCode::kLookupLimit,
                  "too many lookups in flight (discovery.max_inflight_fetches = " +
                      std::to_string(config.max_inflight_fetches) + ")");
  }
  auto same_share = flights_per_share_.find(share);
  if (same_share != flights_per_share_.end() &&
      same_share->second >= config.max_inflight_fetches_per_domain) {
    return Status(ErrorCode::kLookupLimit,
                  "too many lookups in flight under " + share +
                      " (discovery.max_inflight_fetches_per_domain = " +
                      std::to_string(config.max_inflight_fetches_per_domain) + ")");
  }
  return std::nullopt;
}

void DelegationCache::ForgetLocked(const Flight& flight) {
  auto same_share = flights_per_share_.find(flight.share);
  if (same_share != flights_per_share_.end() && --same_share->second == 0) {
    flights_per_share_.erase(same_share);
  }
}

void DelegationCache::StoreLocked(const Key& key, const std::string& share,
                                  std::shared_ptr<const Delegation> delegation) {
  if (delegation->ttl_s <= 0) return;
  Clock::time_point now = Clock::now();
  Clock::time_point expires = now + std::chrono::seconds(delegation->ttl_s);
  entries_.Insert(key, share, std::move(delegation), expires, now);
  ReportSizeLocked();
}

// Under the lock, like the size gauges: two threads setting the count after unlocking could
// leave the older value last.
void DelegationCache::ReportFlightsLocked() { observer_.OnFetchesInFlight(flights_.size()); }

// Under the lock, so the gauges follow the order of changes; the observer only sets them.
void DelegationCache::ReportSizeLocked() { observer_.OnSize(entries_.size(), entries_.bytes()); }

}  // namespace deputy
