#include "net/dns_resolver.h"

#include <ares.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "base/run_once.h"

namespace deputy {

namespace {

// An AddrinfoRequest outlives its query when the query is destroyed while c-ares is still
// working on it (c-ares cannot cancel one query); c-ares' callback then finds query == nullptr
// and only frees the request.
class PendingQuery;

struct AddrinfoRequest {
  PendingQuery* query = nullptr;
};

class PendingQuery : public DnsQuery {
 public:
  PendingQuery(EventLoop& loop, std::string host, uint16_t port, DnsResolver::Callback done)
      : host_(std::move(host)),
        port_(port),
        done_(std::move(done)),
        timer_(loop, [this] { OnTimeout(); }) {}

  ~PendingQuery() override { Detach(); }

  // Answer delivers a result known in advance on the next loop iteration.
  void Answer(Result<std::vector<IpEndpoint>> result) {
    ready_.emplace(std::move(result));
    timer_.Start(0);
  }

  void StartLookup(DnsChannel& channel, uint32_t timeout_ms) {
    request_ = new AddrinfoRequest{this};
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    timer_.Start(timeout_ms);
    // The callback may run inside this call (an /etc/hosts answer); Answer's timer keeps it
    // from reaching the caller before Resolve has returned.
    ares_getaddrinfo(channel.get(), host_.c_str(), nullptr, &hints, &PendingQuery::OnAnswer,
                     request_);
    channel.Rearm();
  }

 private:
  static void OnAnswer(void* arg, int status, int /*timeouts*/, ares_addrinfo* answer) {
    auto* request = static_cast<AddrinfoRequest*>(arg);
    PendingQuery* query = request->query;
    delete request;
    if (query != nullptr) {
      query->request_ = nullptr;
      query->OnResolved(status, answer);
    }
    if (answer != nullptr) ares_freeaddrinfo(answer);
  }

  void Detach() {
    if (request_ != nullptr) {
      request_->query = nullptr;
      request_ = nullptr;
    }
  }

  void OnResolved(int status, const ares_addrinfo* answer) {
    if (status == ARES_ETIMEOUT) {
      Answer(Status(ErrorCode::kDnsTimeout, "resolving " + host_ + " timed out"));
      return;
    }
    if (status != ARES_SUCCESS) {
      Answer(
          Status(ErrorCode::kDnsError, "cannot resolve " + host_ + ": " + ares_strerror(status)));
      return;
    }
    std::vector<IpEndpoint> endpoints;
    for (const ares_addrinfo_node* node = answer ? answer->nodes : nullptr; node != nullptr;
         node = node->ai_next) {
      if (node->ai_family != AF_INET && node->ai_family != AF_INET6) continue;
      if (node->ai_addrlen > sizeof(sockaddr_storage)) continue;
      IpEndpoint endpoint;
      std::memcpy(&endpoint.storage, node->ai_addr, node->ai_addrlen);
      if (node->ai_family == AF_INET) {
        reinterpret_cast<sockaddr_in*>(&endpoint.storage)->sin_port = htons(port_);
      } else {
        reinterpret_cast<sockaddr_in6*>(&endpoint.storage)->sin6_port = htons(port_);
      }
      endpoints.push_back(endpoint);
    }
    if (endpoints.empty()) {
      Answer(Status(ErrorCode::kDnsError, host_ + " has no IPv4 or IPv6 address"));
      return;
    }
    Answer(std::move(endpoints));
  }

  void OnTimeout() {
    if (ready_) {
      auto result = std::move(*ready_);
      ready_.reset();
      Finish(std::move(result));
      return;
    }
    Detach();
    Finish(Status(ErrorCode::kDnsTimeout, "resolving " + host_ + " timed out"));
  }

  void Finish(Result<std::vector<IpEndpoint>> result) { RunOnce(done_, std::move(result)); }

  std::string host_;
  uint16_t port_;
  DnsResolver::Callback done_;
  Timer timer_;
  AddrinfoRequest* request_ = nullptr;
  std::optional<Result<std::vector<IpEndpoint>>> ready_;
};

}  // namespace

DnsResolver::DnsResolver(EventLoop& loop,
                         std::map<std::string, std::vector<std::string>> static_hosts,
                         uint32_t timeout_ms, std::vector<IpEndpoint> servers, uint32_t attempts)
    : loop_(loop), static_hosts_(std::move(static_hosts)), timeout_ms_(timeout_ms) {
  DnsChannel::Options options;
  options.servers = std::move(servers);
  options.attempts = std::max<uint32_t>(attempts, 1);
  // Each attempt gets its share of the deadline; the deadline itself is the query's timer.
  options.attempt_timeout_ms = std::max<uint32_t>(timeout_ms / options.attempts, 1);
  Result<std::unique_ptr<DnsChannel>> channel = DnsChannel::Create(loop, options);
  if (channel.ok()) {
    channel_ = std::move(channel).value();
  } else {
    broken_ = channel.status();
  }
}

// Pending c-ares queries end here, their requests freed; none reaches a query any more.
DnsResolver::~DnsResolver() = default;

void DnsResolver::Reconfigure(std::map<std::string, std::vector<std::string>> static_hosts,
                              uint32_t timeout_ms) {
  static_hosts_ = std::move(static_hosts);
  timeout_ms_ = timeout_ms;
}

std::unique_ptr<DnsQuery> DnsResolver::Resolve(const std::string& host, uint16_t port,
                                               Callback done) {
  auto query = std::make_unique<PendingQuery>(loop_, host, port, std::move(done));
  if (auto literal = ParseIpLiteral(host, port)) {
    query->Answer(std::vector<IpEndpoint>{*literal});
    return query;
  }
  auto it = static_hosts_.find(host);
  if (it != static_hosts_.end()) {
    std::vector<IpEndpoint> endpoints;
    for (const std::string& address : it->second) {
      if (auto endpoint = ParseIpLiteral(address, port)) endpoints.push_back(*endpoint);
    }
    query->Answer(std::move(endpoints));
    return query;
  }
  if (!channel_) {
    query->Answer(broken_);
    return query;
  }
  query->StartLookup(*channel_, timeout_ms_);
  return query;
}

}  // namespace deputy
