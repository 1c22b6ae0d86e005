#include "net/dns_resolver.h"

#include <netinet/in.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "base/ascii.h"
#include "base/run_once.h"

namespace deputy {

namespace {

// RFC 8305 section 3: once one family has answered with addresses, the other gets this long
// before the lookup goes on without it (a server that drops AAAA queries costs 50 ms, not the
// whole DNS timeout).
constexpr uint64_t kResolutionDelayMs = 50;

std::string Describe(const std::string& name, DnsType type) {
  return name + " (" + std::string(DnsTypeLabel(type)) + ")";
}

void SetPort(IpEndpoint& endpoint, uint16_t port) {
  if (endpoint.storage.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&endpoint.storage)->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(&endpoint.storage)->sin6_port = htons(port);
  }
}

// Interleave gives the addresses with `port`, the families alternating, IPv6 first (RFC 8305
// section 4).
std::vector<IpEndpoint> Interleave(std::vector<IpEndpoint> v6, std::vector<IpEndpoint> v4,
                                   uint16_t port) {
  std::vector<IpEndpoint> mixed;
  mixed.reserve(v6.size() + v4.size());
  for (size_t i = 0; i < std::max(v6.size(), v4.size()); ++i) {
    if (i < v6.size()) mixed.push_back(v6[i]);
    if (i < v4.size()) mixed.push_back(v4[i]);
  }
  for (IpEndpoint& endpoint : mixed) SetPort(endpoint, port);
  return mixed;
}

// Outcome maps what c-ares said of a query to the answer and its metric label.
std::pair<Result<DnsAnswer>, DnsQueryResult> Outcome(const std::string& name, DnsType type,
                                                     int status, const unsigned char* message,
                                                     int length) {
  const std::string what = Describe(name, type);
  switch (status) {
    case ARES_SUCCESS:
    case ARES_ENODATA:
    case ARES_ENOTFOUND: {
      std::optional<DnsAnswer> answer =
          message != nullptr && length > 0
              ? ParseDnsResponse(message, static_cast<size_t>(length), name, type)
              : std::nullopt;
      if (!answer) {
        return {Status(ErrorCode::kDnsError, what + ": the name server's answer is malformed"),
                DnsQueryResult::kError};
      }
      const DnsQueryResult result =
          answer->kind == DnsAnswer::Kind::kRecords  ? DnsQueryResult::kRecords
          : answer->kind == DnsAnswer::Kind::kNoData ? DnsQueryResult::kNoData
                                                     : DnsQueryResult::kNxDomain;
      return {std::move(*answer), result};
    }
    case ARES_ETIMEOUT:
      return {Status(ErrorCode::kDnsTimeout, "resolving " + what + " timed out"),
              DnsQueryResult::kTimeout};
    case ARES_ECONNREFUSED:
      return {Status(ErrorCode::kDnsError,
                     what + ": no name server gave an answer (refused, failed or unreachable)"),
              DnsQueryResult::kError};
    case ARES_ESERVFAIL:
      return {Status(ErrorCode::kDnsError, what + ": the name server failed (SERVFAIL)"),
              DnsQueryResult::kError};
    case ARES_EREFUSED:
      return {Status(ErrorCode::kDnsError, what + ": the name server refused the query (REFUSED)"),
              DnsQueryResult::kError};
    case ARES_EBADNAME:
      return {Status(ErrorCode::kDnsError, what + ": not a valid DNS name"),
              DnsQueryResult::kError};
    default:
      return {Status(ErrorCode::kDnsError, what + ": " + ares_strerror(status)),
              DnsQueryResult::kError};
  }
}

// Rank orders the ways one family can fail, so that the error a lookup reports does not depend
// on which family answered first: a timeout, then another error, then NXDOMAIN, then NODATA.
int Rank(const Result<DnsAnswer>& result) {
  if (!result.ok()) return result.status().code() == ErrorCode::kDnsTimeout ? 3 : 2;
  return result->kind == DnsAnswer::Kind::kNxDomain ? 1 : 0;
}

}  // namespace

// Flight is the one query in flight for a (name, type), shared by every lookup of it.
class DnsResolver::Flight {
 public:
  Flight(DnsResolver& resolver, std::string key, std::string name, DnsType type)
      : key(std::move(key)),
        name(std::move(name)),
        type(type),
        started_ms(resolver.now_ms()),
        deadline(resolver.loop_, [this, &resolver] {
          resolver.Finish(*this,
                          Status(ErrorCode::kDnsTimeout,
                                 "resolving " + Describe(this->name, this->type) + " timed out"),
                          DnsQueryResult::kTimeout);
        }) {}
  ~Flight();

  const std::string key;
  const std::string name;
  const DnsType type;
  const uint64_t started_ms;
  DnsChannel* channel = nullptr;
  std::unique_ptr<DnsChannel::Query> query;
  Timer deadline;
  std::vector<TypeLookup*> waiters;
};

// TypeLookup is one lookup of a (name, type): answered from the cache or by its flight, always
// through its own timer, so that the answer reaches the caller on a turn of the loop of its own.
class DnsResolver::TypeLookup : public DnsQuery {
 public:
  TypeLookup(DnsResolver& resolver, std::string name, DnsType type, AnswerCallback done)
      : resolver_(resolver),
        name_(std::move(name)),
        type_(type),
        done_(std::move(done)),
        deliver_(resolver.loop_, [this] { Deliver(); }) {}
  ~TypeLookup() override {
    if (flight_ != nullptr) resolver_.Leave(*this);
  }

  const std::string& name() const { return name_; }
  DnsType type() const { return type_; }

  void Answer(Result<DnsAnswer> result) {
    flight_ = nullptr;
    result_.emplace(std::move(result));
    deliver_.Start(0);
  }

 private:
  friend class DnsResolver;

  void Deliver() {
    if (!result_) return;
    Result<DnsAnswer> result = std::move(*result_);
    result_.reset();
    RunOnce(done_, std::move(result));
  }

  DnsResolver& resolver_;
  const std::string name_;
  const DnsType type_;
  AnswerCallback done_;
  Flight* flight_ = nullptr;
  std::optional<Result<DnsAnswer>> result_;
  Timer deliver_;
};

DnsResolver::Flight::~Flight() {
  for (TypeLookup* waiter : waiters) waiter->flight_ = nullptr;
}

// AddressLookup asks for AAAA and A at once and gives their addresses together.
class DnsResolver::AddressLookup : public DnsQuery {
 public:
  AddressLookup(DnsResolver& resolver, std::string host, uint16_t port, AddressesCallback done)
      : host_(std::move(host)),
        port_(port),
        done_(std::move(done)),
        timer_(resolver.loop_, [this] { OnTimer(); }) {}

  // Answer gives a result known at once, on the next turn of the loop.
  void Answer(Result<std::vector<IpEndpoint>> result) {
    ready_.emplace(std::move(result));
    timer_.Start(0);
  }

  void Ask(DnsResolver& resolver) {
    v6_query_ = resolver.Lookup(host_, DnsType::kAaaa, [this](Result<DnsAnswer> result) {
      v6_.emplace(std::move(result));
      OnFamily();
    });
    v4_query_ = resolver.Lookup(host_, DnsType::kA, [this](Result<DnsAnswer> result) {
      v4_.emplace(std::move(result));
      OnFamily();
    });
  }

 private:
  static bool HasAddresses(const std::optional<Result<DnsAnswer>>& family) {
    return family && family->ok() && !(*family)->addresses.empty();
  }

  void OnFamily() {
    if (v6_ && v4_) {
      timer_.Stop();
      Complete();
      return;
    }
    if (HasAddresses(v6_) || HasAddresses(v4_)) timer_.Start(kResolutionDelayMs);
  }

  void OnTimer() {
    if (ready_) {
      Result<std::vector<IpEndpoint>> result = std::move(*ready_);
      ready_.reset();
      RunOnce(done_, std::move(result));
      return;
    }
    // The resolution delay ran out: go on with the family that answered.
    v6_query_.reset();
    v4_query_.reset();
    Complete();
  }

  void Complete() {
    std::vector<IpEndpoint> v6 = HasAddresses(v6_) ? (*v6_)->addresses : std::vector<IpEndpoint>{};
    std::vector<IpEndpoint> v4 = HasAddresses(v4_) ? (*v4_)->addresses : std::vector<IpEndpoint>{};
    if (!v6.empty() || !v4.empty()) {
      RunOnce(done_,
              Result<std::vector<IpEndpoint>>(Interleave(std::move(v6), std::move(v4), port_)));
      return;
    }
    const Result<DnsAnswer>& worse = Rank(*v6_) >= Rank(*v4_) ? *v6_ : *v4_;
    if (!worse.ok()) {
      RunOnce(done_, Result<std::vector<IpEndpoint>>(worse.status()));
    } else if (worse->kind == DnsAnswer::Kind::kNxDomain) {
      RunOnce(done_, Result<std::vector<IpEndpoint>>(
                         Status(ErrorCode::kDnsError, host_ + " does not exist (NXDOMAIN)")));
    } else {
      RunOnce(done_, Result<std::vector<IpEndpoint>>(
                         Status(ErrorCode::kDnsError, host_ + " has no IPv4 or IPv6 address")));
    }
  }

  const std::string host_;
  const uint16_t port_;
  AddressesCallback done_;
  std::optional<Result<std::vector<IpEndpoint>>> ready_;
  std::optional<Result<DnsAnswer>> v6_;
  std::optional<Result<DnsAnswer>> v4_;
  std::unique_ptr<DnsQuery> v6_query_;
  std::unique_ptr<DnsQuery> v4_query_;
  Timer timer_;
};

DnsResolver::DnsResolver(EventLoop& loop, DnsSettings settings, DnsObserver* observer)
    : loop_(loop),
      settings_(std::move(settings)),
      observer_(observer),
      cache_(settings_.cache),
      sweep_(loop, [this] { Sweep(); }) {
  Result<std::unique_ptr<DnsChannel>> channel = OpenChannel(loop, settings_);
  if (channel.ok()) {
    channel_ = std::move(channel).value();
  } else {
    broken_ = channel.status();
  }
}

DnsResolver::~DnsResolver() {
  // Flights first: each query detaches from its channel before the channel goes.
  ended_.clear();
  flights_.clear();
  if (observer_ != nullptr && counted_entries_ > 0) {
    observer_->OnCacheEntries(-static_cast<long>(counted_entries_));
  }
}

Result<std::unique_ptr<DnsChannel>> DnsResolver::OpenChannel(EventLoop& loop,
                                                             const DnsSettings& settings) {
  DnsChannel::Options options;
  options.servers = settings.servers;
  options.timeout_ms = settings.timeout_ms;
  options.attempts = std::max<uint32_t>(settings.attempts, 1);
  return DnsChannel::Create(loop, options);
}

uint64_t DnsResolver::now_ms() const { return uv_now(loop_.get()); }

std::unique_ptr<DnsQuery> DnsResolver::Resolve(const std::string& host, uint16_t port,
                                               AddressesCallback done) {
  auto lookup = std::make_unique<AddressLookup>(*this, host, port, std::move(done));
  if (auto literal = ParseIpLiteral(host, port)) {
    lookup->Answer(std::vector<IpEndpoint>{*literal});
    return lookup;
  }
  if (auto it = settings_.hosts.find(host); it != settings_.hosts.end()) {
    std::vector<IpEndpoint> endpoints;
    for (const std::string& address : it->second) {
      if (auto endpoint = ParseIpLiteral(address, port)) endpoints.push_back(*endpoint);
    }
    lookup->Answer(std::move(endpoints));
    return lookup;
  }
  if (!channel_) {
    lookup->Answer(broken_);
    return lookup;
  }
  // /etc/hosts answers for both families when it names either, as the system resolver does.
  std::vector<IpEndpoint> v6 = channel_->FromHostsFile(host, AF_INET6);
  std::vector<IpEndpoint> v4 = channel_->FromHostsFile(host, AF_INET);
  if (!v6.empty() || !v4.empty()) {
    lookup->Answer(Interleave(std::move(v6), std::move(v4), port));
    return lookup;
  }
  lookup->Ask(*this);
  return lookup;
}

std::unique_ptr<DnsQuery> DnsResolver::Lookup(const std::string& name, DnsType type,
                                              AnswerCallback done) {
  std::string absolute = AsciiLower(name);
  if (!absolute.empty() && absolute.back() == '.') absolute.pop_back();
  auto lookup = std::make_unique<TypeLookup>(*this, std::move(absolute), type, std::move(done));
  Start(*lookup);
  return lookup;
}

void DnsResolver::Start(TypeLookup& lookup) {
  const std::string& name = lookup.name();
  const DnsType type = lookup.type();
  const DnsCache::Entry* cached = cache_.Find(name, type, now_ms());
  CountEntries();
  if (cached != nullptr) {
    if (observer_ != nullptr) {
      observer_->OnLookup(type, cached->answer.kind == DnsAnswer::Kind::kRecords
                                    ? DnsLookupResult::kHit
                                    : DnsLookupResult::kNegative);
    }
    lookup.Answer(cached->answer);
    return;
  }
  std::string key = std::string(DnsTypeLabel(type)) + ' ' + name;
  if (auto it = flights_.find(key); it != flights_.end()) {
    if (observer_ != nullptr) observer_->OnLookup(type, DnsLookupResult::kJoined);
    it->second->waiters.push_back(&lookup);
    lookup.flight_ = it->second.get();
    return;
  }
  if (!channel_) {
    lookup.Answer(broken_);
    return;
  }
  if (channel_->running() >= settings_.max_inflight_queries) {
    if (observer_ != nullptr) observer_->OnLookup(type, DnsLookupResult::kLimit);
    lookup.Answer(Status(ErrorCode::kDnsError, "cannot resolve " + Describe(name, type) +
                                                   ": too many DNS queries in flight "
                                                   "(dns.max_inflight_queries)"));
    return;
  }
  if (observer_ != nullptr) {
    observer_->OnLookup(type, DnsLookupResult::kMiss);
    observer_->OnQueriesInFlight(1);
  }
  auto flight = std::make_unique<Flight>(*this, key, name, type);
  Flight* raw = flight.get();
  raw->waiters.push_back(&lookup);
  lookup.flight_ = raw;
  raw->channel = channel_.get();
  flights_.emplace(std::move(key), std::move(flight));
  raw->deadline.Start(settings_.timeout_ms);
  raw->query =
      channel_->Send(name, type, [this, raw](int status, const unsigned char* message, int length) {
        auto [result, outcome] = Outcome(raw->name, raw->type, status, message, length);
        Finish(*raw, std::move(result), outcome);
      });
}

void DnsResolver::Leave(TypeLookup& lookup) {
  Flight* flight = lookup.flight_;
  lookup.flight_ = nullptr;
  std::erase(flight->waiters, &lookup);
  if (!flight->waiters.empty()) return;
  // No one waits any more: the query is cancelled rather than left to run for no one.
  Finish(*flight, Status(ErrorCode::kDnsError, "abandoned"), DnsQueryResult::kCancelled);
}

void DnsResolver::Finish(Flight& flight, Result<DnsAnswer> result, DnsQueryResult outcome) {
  auto it = flights_.find(flight.key);
  if (it == flights_.end() || it->second.get() != &flight) return;
  std::unique_ptr<Flight> ended = std::move(it->second);
  flights_.erase(it);
  ended->deadline.Stop();
  if (observer_ != nullptr) {
    observer_->OnQueriesInFlight(-1);
    observer_->OnQuery(flight.type, outcome,
                       static_cast<double>(now_ms() - flight.started_ms) / 1000.0);
  }
  // An answer from a channel a reload replaced is still the answer of the servers asked, but
  // the cache now belongs to the new ones.
  if (result.ok() && flight.channel == channel_.get()) {
    cache_.Store(flight.name, flight.type, *result, now_ms());
    CountEntries();
  }
  for (TypeLookup* waiter : std::exchange(ended->waiters, {})) waiter->Answer(result);
  ended_.push_back(std::move(ended));
  sweep_.Start(0);
}

void DnsResolver::Sweep() {
  ended_.clear();
  std::erase_if(retired_,
                [this](const std::unique_ptr<DnsChannel>& channel) { return !InUse(*channel); });
}

bool DnsResolver::InUse(const DnsChannel& channel) const {
  for (const auto& [key, flight] : flights_) {
    if (flight->channel == &channel) return true;
  }
  for (const auto& flight : ended_) {
    if (flight->channel == &channel) return true;
  }
  return false;
}

Status DnsResolver::Reconfigure(DnsSettings settings) {
  const bool servers_changed =
      settings.servers.size() != settings_.servers.size() ||
      !std::equal(
          settings.servers.begin(), settings.servers.end(), settings_.servers.begin(),
          [](const IpEndpoint& a, const IpEndpoint& b) { return a.ToString() == b.ToString(); });
  const bool channel_changed = !channel_ || servers_changed ||
                               settings.attempts != settings_.attempts ||
                               settings.timeout_ms != settings_.timeout_ms;
  Status status;
  if (channel_changed) {
    Result<std::unique_ptr<DnsChannel>> channel = OpenChannel(loop_, settings);
    if (!channel.ok()) {
      // The old channel, name servers and cache stay; so do the settings that need them.
      status = channel.status();
      settings.servers = settings_.servers;
      settings.attempts = settings_.attempts;
      settings.timeout_ms = settings_.timeout_ms;
    } else {
      if (channel_) {
        if (InUse(*channel_)) {
          retired_.push_back(std::move(channel_));
        } else {
          channel_.reset();
        }
      }
      channel_ = std::move(channel).value();
      broken_ = Status();
      if (servers_changed) cache_.Clear();
    }
  }
  cache_.SetLimits(settings.cache);
  CountEntries();
  settings_ = std::move(settings);
  return status;
}

void DnsResolver::CountEntries() {
  const size_t entries = cache_.size();
  if (entries == counted_entries_) return;
  if (observer_ != nullptr) {
    observer_->OnCacheEntries(static_cast<long>(entries) - static_cast<long>(counted_entries_));
  }
  counted_entries_ = entries;
}

}  // namespace deputy
