#include "delegation/delegation_cache.h"

#include <algorithm>

#include "base/run_once.h"
#include "log/warning_limiter.h"

namespace deputy {

namespace {

// Bound on cached keys; beyond it the entry closest to expiry goes first.
constexpr size_t kMaxEntries = 10000;

}  // namespace

class DelegationCache::Waiter : public DelegationLookup {
 public:
  Waiter(EventLoop& loop, Callback done)
      : done_(std::move(done)), timer_(loop, [this] { Deliver(std::move(*ready_)); }) {}
  ~Waiter() override;

  // AnswerLater delivers a known result on the next loop turn.
  void AnswerLater(Result<LookupOutcome> result) {
    ready_.emplace(std::move(result));
    timer_.Start(0);
  }

  void Deliver(Result<LookupOutcome> result) { RunOnce(done_, std::move(result)); }

  Flight* flight = nullptr;

 private:
  Callback done_;
  Timer timer_;
  std::optional<Result<LookupOutcome>> ready_;
};

struct DelegationCache::Flight {
  std::unique_ptr<HttpsFetch> fetch;
  std::vector<Waiter*> waiters;
  Clock::time_point started;
};

DelegationCache::Waiter::~Waiter() {
  if (flight != nullptr) {
    auto& waiters = flight->waiters;
    waiters.erase(std::remove(waiters.begin(), waiters.end(), this), waiters.end());
  }
}

DelegationCache::DelegationCache(EventLoop& loop, DnsResolver& resolver, SSL_CTX* discovery_ctx,
                                 const DiscoveryConfig& config, ConnectTimeouts connect,
                                 Metrics& metrics)
    : loop_(loop), resolver_(resolver), ctx_(discovery_ctx), config_(config), metrics_(metrics) {
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
  auto waiter = std::make_unique<Waiter>(loop_, std::move(done));
  Key key{domain, service};
  auto cached = entries_.find(key);
  if (cached != entries_.end()) {
    if (Clock::now() < cached->second.expires) {
      bool negative = cached->second.delegation->kind == Delegation::Kind::kNotDelegated;
      metrics_.Lookups(negative ? "negative" : "hit").Increment();
      waiter->AnswerLater(LookupOutcome{cached->second.delegation, true});
      return waiter;
    }
    entries_.erase(cached);
    metrics_.CacheEntries().Set(static_cast<double>(entries_.size()));
  }
  auto& flight = flights_[key];
  if (!flight) {
    flight = std::make_unique<Flight>();
    flight->started = Clock::now();
    flight->fetch = std::make_unique<HttpsFetch>(loop_, resolver_, ctx_, limits_);
    std::string url = ExpandUrlTemplate(config_.url_template, domain, service);
    Result<HttpsUrl> parsed = ParseHttpsUrl(url);
    if (!parsed.ok()) {
      flights_.erase(key);
      metrics_.Lookups("error").Increment();
      waiter->AnswerLater(Status(ErrorCode::kInvalidConfig, "url_template gives an invalid URL: " +
                                                                parsed.status().message()));
      return waiter;
    }
    flight->fetch->Start(
        *parsed, [this, key](Result<FetchResult> result) { OnFetched(key, std::move(result)); });
  }
  waiter->flight = flight.get();
  flight->waiters.push_back(waiter.get());
  return waiter;
}

void DelegationCache::OnFetched(const Key& key, Result<FetchResult> result) {
  auto it = flights_.find(key);
  if (it == flights_.end()) return;
  std::unique_ptr<Flight> flight = std::move(it->second);
  flights_.erase(it);
  // The fetch is inside its own callback; free it on the next turn.
  loop_.DeferDelete(std::move(flight->fetch));
  metrics_.LookupDuration().Observe(
      std::chrono::duration<double>(Clock::now() - flight->started).count());

  Result<std::shared_ptr<const Delegation>> delegation = Interpret(key, result);
  if (delegation.ok()) Store(key, *delegation);
  // A waiter's callback may destroy other waiters; each one unlinks itself from the flight,
  // so take them one at a time.
  while (!flight->waiters.empty()) {
    Waiter* waiter = flight->waiters.back();
    flight->waiters.pop_back();
    waiter->flight = nullptr;
    if (delegation.ok()) {
      metrics_.Lookups("miss").Increment();
      waiter->Deliver(LookupOutcome{*delegation, false});
    } else {
      metrics_.Lookups("error").Increment();
      waiter->Deliver(delegation.status());
    }
  }
}

Result<std::shared_ptr<const Delegation>> DelegationCache::Interpret(
    const Key& key, const Result<FetchResult>& result) {
  if (!result.ok()) {
    metrics_.Fetches("error").Increment();
    WarnLimited("delegation lookup failed", "delegation lookup for {}/{} failed: {}", key.first,
                key.second, result.status().ToString());
    return result.status();
  }
  int status = result->response.status;
  metrics_.Fetches(status >= 100 && status <= 599 ? std::to_string(status) : "invalid").Increment();
  std::vector<std::string> skipped;
  Result<std::shared_ptr<const Delegation>> delegation =
      InterpretResponse(*result, config_, &skipped);
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

void DelegationCache::Store(const Key& key, std::shared_ptr<const Delegation> delegation) {
  if (delegation->ttl_s <= 0) return;
  Clock::time_point now = Clock::now();
  if (entries_.size() >= kMaxEntries && entries_.find(key) == entries_.end()) {
    std::erase_if(entries_, [now](const auto& item) { return item.second.expires <= now; });
    if (entries_.size() >= kMaxEntries) {
      auto soonest = std::min_element(entries_.begin(), entries_.end(), [](auto& a, auto& b) {
        return a.second.expires < b.second.expires;
      });
      entries_.erase(soonest);
    }
  }
  Clock::time_point expires = now + std::chrono::seconds(delegation->ttl_s);
  entries_[key] = Entry{std::move(delegation), expires};
  metrics_.CacheEntries().Set(static_cast<double>(entries_.size()));
}

}  // namespace deputy
