#include "delegation/delegation_cache.h"

#include <algorithm>

#include "base/run_once.h"
#include "log/warning_limiter.h"

namespace deputy {

class DelegationCache::Waiter : public DelegationLookup {
 public:
  Waiter(EventLoop& loop, DelegationCache& cache, Callback done)
      : cache_(cache),
        done_(std::move(done)),
        timer_(loop, [this] { Deliver(std::move(*ready_)); }) {}
  ~Waiter() override;

  // AnswerLater delivers a known result on the next loop turn.
  void AnswerLater(Result<LookupOutcome> result) {
    ready_.emplace(std::move(result));
    timer_.Start(0);
  }

  void Deliver(Result<LookupOutcome> result) { RunOnce(done_, std::move(result)); }

  Flight* flight = nullptr;

 private:
  DelegationCache& cache_;
  Callback done_;
  Timer timer_;
  std::optional<Result<LookupOutcome>> ready_;
};

struct DelegationCache::Flight {
  Key key;
  std::string share;  // the registrable domain of key.first
  std::unique_ptr<HttpsFetch> fetch;
  std::vector<Waiter*> waiters;
  Clock::time_point started;
  // Set once the fetch has answered: its waiters are being served and nothing is left to cancel.
  bool finished = false;
};

DelegationCache::Waiter::~Waiter() {
  if (flight == nullptr) return;
  auto& waiters = flight->waiters;
  waiters.erase(std::remove(waiters.begin(), waiters.end(), this), waiters.end());
  if (waiters.empty() && !flight->finished) cache_.Cancel(flight);
}

DelegationCache::DelegationCache(EventLoop& loop, DnsResolver& resolver,
                                 const DestinationGuard& guard, SSL_CTX* discovery_ctx,
                                 const DiscoveryConfig& config, ConnectTimeouts connect,
                                 CacheObserver& observer)
    : loop_(loop),
      resolver_(resolver),
      guard_(guard),
      ctx_(discovery_ctx),
      config_(config),
      observer_(observer),
      entries_(CacheIndex::Limits{config.cache_max_entries, config.cache_max_bytes,
                                  config.max_entries_per_domain},
               [this](EvictionReason reason) { observer_.OnEviction(reason); }) {
  if (!public_suffixes_.loaded()) {
    spdlog::warn(
        "no Public Suffix List (install Debian's publicsuffix package): per-domain cache shares "
        "and fetch limits count each exact name, so subdomains of one domain are not grouped");
  }
  limits_.timeout_ms = config.timeout_ms;
  limits_.max_body_bytes = config.max_document_bytes;
  limits_.max_redirects = config.max_redirects;
  limits_.connect = connect;
}

DelegationCache::~DelegationCache() {
  for (auto& [key, flight] : flights_) {
    for (Waiter* waiter : flight->waiters) waiter->flight = nullptr;
  }
}

std::unique_ptr<DelegationLookup> DelegationCache::Lookup(const std::string& domain,
                                                          const std::string& service,
                                                          Callback done) {
  auto waiter = std::make_unique<Waiter>(loop_, *this, std::move(done));
  Key key{domain, service};
  if (std::shared_ptr<const Delegation> cached = entries_.Find(key, Clock::now())) {
    bool negative = cached->kind == Delegation::Kind::kNotDelegated;
    observer_.OnLookup(negative ? LookupResult::kNegative : LookupResult::kHit);
    waiter->AnswerLater(LookupOutcome{std::move(cached), true});
    return waiter;
  }
  ReportSize();  // Find drops an expired entry
  auto flight = flights_.find(key);
  if (flight == flights_.end()) {
    // Joining a flight costs nothing more; only a new fetch is refused at the limit.
    std::string share = public_suffixes_.RegistrableDomain(domain);
    if (std::optional<Status> refused = Refusal(share)) {
      observer_.OnLookup(LookupResult::kLimit);
      waiter->AnswerLater(std::move(*refused));
      return waiter;
    }
    std::string url = ExpandUrlTemplate(config_.url_template, domain, service);
    Result<HttpsUrl> parsed = ParseHttpsUrl(url);
    if (!parsed.ok()) {
      observer_.OnLookup(LookupResult::kError);
      waiter->AnswerLater(Status(ErrorCode::kInvalidConfig, "url_template gives an invalid URL: " +
                                                                parsed.status().message()));
      return waiter;
    }
    auto started = std::make_unique<Flight>();
    started->key = key;
    started->share = std::move(share);
    started->started = Clock::now();
    ++flights_per_share_[started->share];
    started->fetch = std::make_unique<HttpsFetch>(loop_, resolver_, guard_, ctx_, limits_);
    flight = flights_.emplace(key, std::move(started)).first;
    waiter->flight = flight->second.get();
    flight->second->waiters.push_back(waiter.get());
    observer_.OnFetchesInFlight(flights_.size());
    flight->second->fetch->Start(
        *parsed, [this, key](Result<FetchResult> result) { OnFetched(key, std::move(result)); });
    return waiter;
  }
  waiter->flight = flight->second.get();
  flight->second->waiters.push_back(waiter.get());
  return waiter;
}

void DelegationCache::Cancel(Flight* flight) {
  auto it = flights_.find(flight->key);
  if (it == flights_.end() || it->second.get() != flight) return;
  std::unique_ptr<Flight> cancelled = std::move(it->second);
  flights_.erase(it);
  Forget(*cancelled);
  // Destroying the fetch closes its socket now, before another byte is read. It cannot be
  // inside its own callback here: that callback is OnFetched, which marks the flight finished
  // before any waiter can go.
  cancelled->fetch.reset();
  spdlog::debug("delegation lookup for {}/{} cancelled: every waiter left", flight->key.first,
                flight->key.second);
  observer_.OnFetch("cancelled");
  observer_.OnFetchesInFlight(flights_.size());
}

void DelegationCache::OnFetched(const Key& key, Result<FetchResult> result) {
  auto it = flights_.find(key);
  if (it == flights_.end()) return;
  std::unique_ptr<Flight> flight = std::move(it->second);
  flights_.erase(it);
  Forget(*flight);
  flight->finished = true;
  // The fetch is inside its own callback; free it on the next turn.
  loop_.DeferDelete(std::move(flight->fetch));
  observer_.OnFetchesInFlight(flights_.size());
  observer_.OnFetchDuration(std::chrono::duration<double>(Clock::now() - flight->started).count());

  Result<std::shared_ptr<const Delegation>> delegation = Interpret(key, result);
  if (delegation.ok()) Store(key, flight->share, *delegation);
  // A waiter's callback may destroy other waiters; each one unlinks itself from the flight,
  // so take them one at a time.
  while (!flight->waiters.empty()) {
    Waiter* waiter = flight->waiters.back();
    flight->waiters.pop_back();
    waiter->flight = nullptr;
    if (delegation.ok()) {
      observer_.OnLookup(LookupResult::kMiss);
      waiter->Deliver(LookupOutcome{*delegation, false});
    } else {
      observer_.OnLookup(LookupResult::kError);
      waiter->Deliver(delegation.status());
    }
  }
}

Result<std::shared_ptr<const Delegation>> DelegationCache::Interpret(
    const Key& key, const Result<FetchResult>& result) {
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
      *result, config_, [this](const std::string& host) { return resolver_.HasStaticHost(host); },
      &skipped);
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

std::optional<Status> DelegationCache::Refusal(const std::string& share) const {
  if (flights_.size() >= config_.max_inflight_fetches) {
    return Status(ErrorCode::kLookupLimit,
                  "too many lookups in flight (discovery.max_inflight_fetches = " +
                      std::to_string(config_.max_inflight_fetches) + ")");
  }
  auto same_share = flights_per_share_.find(share);
  if (same_share != flights_per_share_.end() &&
      same_share->second >= config_.max_inflight_fetches_per_domain) {
    return Status(ErrorCode::kLookupLimit,
                  "too many lookups in flight under " + share +
                      " (discovery.max_inflight_fetches_per_domain = " +
                      std::to_string(config_.max_inflight_fetches_per_domain) + ")");
  }
  return std::nullopt;
}

void DelegationCache::Forget(const Flight& flight) {
  auto same_share = flights_per_share_.find(flight.share);
  if (same_share != flights_per_share_.end() && --same_share->second == 0) {
    flights_per_share_.erase(same_share);
  }
}

void DelegationCache::Store(const Key& key, const std::string& share,
                            std::shared_ptr<const Delegation> delegation) {
  if (delegation->ttl_s <= 0) return;
  Clock::time_point now = Clock::now();
  Clock::time_point expires = now + std::chrono::seconds(delegation->ttl_s);
  entries_.Insert(key, share, std::move(delegation), expires, now);
  ReportSize();
}

void DelegationCache::ReportSize() { observer_.OnSize(entries_.size(), entries_.bytes()); }

}  // namespace deputy
