#include "net/dns_resolver.h"

#include <netdb.h>
#include <uv.h>

#include <cstring>
#include <optional>

#include "base/run_once.h"

namespace deputy {

namespace {

// A uv_getaddrinfo_t outlives its query when the query is destroyed while the thread pool is
// still working on it; the request then finds query == nullptr and only frees itself.
class PendingQuery;

struct AddrinfoRequest {
  uv_getaddrinfo_t req{};
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

  void StartLookup(uv_loop_t* loop, uint32_t timeout_ms) {
    request_ = new AddrinfoRequest;
    request_->query = this;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    int rc = uv_getaddrinfo(
        loop, &request_->req,
        [](uv_getaddrinfo_t* r, int status, addrinfo* res) {
          auto* request = reinterpret_cast<AddrinfoRequest*>(r);
          PendingQuery* query = request->query;
          delete request;
          if (query != nullptr) {
            query->request_ = nullptr;
            query->OnResolved(status, res);
          }
          uv_freeaddrinfo(res);
        },
        host_.c_str(), nullptr, &hints);
    if (rc != 0) {
      delete request_;
      request_ = nullptr;
      Answer(Status(ErrorCode::kDnsError, "cannot resolve " + host_ + ": " + uv_strerror(rc)));
      return;
    }
    timer_.Start(timeout_ms);
  }

 private:
  void Detach() {
    if (request_ != nullptr) {
      request_->query = nullptr;
      uv_cancel(reinterpret_cast<uv_req_t*>(&request_->req));
      request_ = nullptr;
    }
  }

  void OnResolved(int status, addrinfo* res) {
    timer_.Stop();
    if (status != 0) {
      Finish(Status(ErrorCode::kDnsError, "cannot resolve " + host_ + ": " + uv_strerror(status)));
      return;
    }
    std::vector<IpEndpoint> endpoints;
    for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
      if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
      IpEndpoint endpoint;
      std::memcpy(&endpoint.storage, ai->ai_addr, ai->ai_addrlen);
      if (ai->ai_family == AF_INET) {
        reinterpret_cast<sockaddr_in*>(&endpoint.storage)->sin_port = htons(port_);
      } else {
        reinterpret_cast<sockaddr_in6*>(&endpoint.storage)->sin6_port = htons(port_);
      }
      endpoints.push_back(endpoint);
    }
    if (endpoints.empty()) {
      Finish(Status(ErrorCode::kDnsError, host_ + " has no IPv4 or IPv6 address"));
      return;
    }
    Finish(std::move(endpoints));
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
                         uint32_t timeout_ms)
    : loop_(loop), static_hosts_(std::move(static_hosts)), timeout_ms_(timeout_ms) {}

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
  query->StartLookup(loop_.get(), timeout_ms_);
  return query;
}

}  // namespace deputy
