#include "cli/resolve_command.h"

#include <iostream>
#include <memory>
#include <optional>
#include <random>

#include "base/untrusted_text.h"
#include "config/services_db.h"
#include "delegation/interpret.h"
#include "delegation/srv_delegation.h"
#include "http/https_client.h"
#include "http/url.h"
#include "loop/event_loop.h"
#include "net/dns_resolver.h"
#include "net/names.h"
#include "session/route_plan.h"
#include "tls/tls_connector.h"
#include "tls/tls_context.h"

namespace deputy {

namespace {

// SourceWalk asks discovery.sources in order, as a session would, printing what each says, and
// then checks whether the first target of the route verifies.
class SourceWalk {
 public:
  SourceWalk(const Config& config, EventLoop& loop, DnsResolver& resolver,
             const DestinationGuard& guard, HttpsFetch& fetch, SSL_CTX* upstream_tls,
             Destination destination, std::optional<HttpsUrl> url)
      : config_(config),
        loop_(loop),
        resolver_(resolver),
        guard_(guard),
        fetch_(fetch),
        upstream_tls_(upstream_tls),
        destination_(std::move(destination)),
        url_(std::move(url)),
        rng_(std::random_device{}()) {}

  int exit_code() const { return exit_code_; }

  void Next() {
    const std::vector<DiscoverySource>& sources = config_.discovery.sources;
    if (next_ >= sources.size()) {
      std::cout << "refused: " << not_delegated_ << " and discovery.sources has no other\n";
      exit_code_ = kResolveNotDelegated;
      return;
    }
    switch (sources[next_++]) {
      case DiscoverySource::kWellKnown:
        AskWellKnown();
        return;
      case DiscoverySource::kSrv:
        AskSrv();
        return;
      case DiscoverySource::kDirect: {
        std::cout << "source direct: " << destination_.domain << "\n";
        Result<std::vector<Target>> route = DirectRoute(destination_, not_delegated_);
        if (!route.ok()) {
          std::cout << "refused: " << route.status().ToString() << "\n";
          exit_code_ = kResolveNotDelegated;
          return;
        }
        std::cout << "not delegated; direct, targets in order:\n";
        Connect(std::move(route).value(), false);
        return;
      }
    }
  }

 private:
  void AskWellKnown() {
    std::cout << "source well-known: fetching " << url_->ToString() << "\n";
    fetch_.Start(*url_, [this](Result<FetchResult> fetched) {
      if (!fetched.ok()) {
        std::cout << "lookup failed: " << fetched.status().ToString() << "\n";
        return;
      }
      std::cout << "answer: HTTP " << fetched->response.status << " from " << fetched->final_url
                << " after " << fetched->redirects << " redirect(s)\n";
      if (fetched->response.status == 200) {
        std::cout << "document:\n"
                  << Printable(fetched->response.body.substr(0, 4096), {.keep_newlines = true})
                  << "\n";
      }
      std::vector<std::string> skipped;
      auto delegation = InterpretResponse(
          *fetched, config_.discovery,
          [this](const std::string& host) { return resolver_.HasStaticHost(host); }, &skipped);
      for (const std::string& reason : skipped) std::cout << "skipped " << reason << "\n";
      if (!delegation.ok()) {
        std::cout << "lookup failed: " << delegation.status().ToString() << "\n";
        return;
      }
      std::cout << "cache lifetime: " << (*delegation)->ttl_s << " s\n";
      Use(**delegation, "well-known");
    });
  }

  void AskSrv() {
    const std::string name = SrvNameFor(destination_.domain, destination_.service);
    std::cout << "source srv: asking " << name << "\n";
    srv_ = resolver_.Lookup(name, DnsType::kSrv, [this, name](Result<DnsAnswer> answer) {
      if (!answer.ok()) {
        std::cout << "lookup failed: " << answer.status().ToString() << "\n";
        return;
      }
      for (const SrvRecord& record : answer->services) {
        std::cout << "  SRV priority " << record.priority << " weight " << record.weight << " port "
                  << record.port << " target "
                  << (record.target.empty() ? "." : Printable(record.target)) << "\n";
      }
      if (answer->ttl_s) std::cout << "DNS lifetime: " << *answer->ttl_s << " s\n";
      std::vector<std::string> skipped;
      auto delegation = DelegationFromSrv(
          *answer, name, destination_.domain,
          [this](const std::string& host) { return resolver_.HasStaticHost(host); }, &skipped);
      for (const std::string& reason : skipped) std::cout << "skipped " << reason << "\n";
      if (!delegation.ok()) {
        std::cout << "lookup failed: " << delegation.status().ToString() << "\n";
        return;
      }
      Use(**delegation, "srv");
    });
  }

  void Use(const Delegation& delegation, const char* source) {
    if (delegation.kind == Delegation::Kind::kNotDelegated) {
      not_delegated_ = NotDelegatedReason(delegation, destination_);
      std::cout << "not delegated: " << not_delegated_ << "\n";
      Next();
      return;
    }
    Result<std::vector<Target>> route = PlanRoute(delegation, destination_, rng_);
    if (!route.ok()) {
      std::cout << "refused: " << route.status().ToString() << "\n";
      exit_code_ = kResolveNotDelegated;
      return;
    }
    std::cout << "delegated by " << source << ", targets in order:\n";
    Connect(std::move(route).value(), true);
  }

  void Connect(std::vector<Target> route, bool delegated) {
    for (size_t i = 0; i < route.size(); ++i) {
      const Target& t = route[i];
      std::cout << "  " << i + 1 << ". " << t.host << ":" << t.port << " verify " << t.domain
                << " (priority " << t.priority << ", weight " << t.weight << ")\n";
    }
    const Target first = route.front();
    ConnectTimeouts timeouts{config_.upstream.connect_timeout_ms,
                             config_.upstream.handshake_timeout_ms,
                             config_.upstream.happy_eyeballs_delay_ms};
    attempt_ =
        std::make_unique<TlsConnectAttempt>(loop_, resolver_, guard_, upstream_tls_, timeouts);
    attempt_->Start(
        first.host, first.port, first.domain,
        [this, delegated, first](Result<TlsConnection> connection) {
          if (!connection.ok()) {
            std::cout << "first target " << first.host << ":" << first.port
                      << " does not verify: " << connection.status().ToString() << "\n";
            return;
          }
          std::cout << "first target " << first.host << ":" << first.port << " ("
                    << connection->endpoint.ToString() << ") verifies as " << first.domain
                    << " with " << connection->stream->version() << " "
                    << connection->stream->cipher() << "\n";
          connection->stream->Close();
          loop_.DeferDelete(std::move(connection->stream));
          exit_code_ = delegated ? kResolveDelegated : kResolveNotDelegated;
        },
        [](const std::string& where, const Status& status) {
          // The operator's own tool: addresses and reasons are what it is for.
          std::cout << "  " << where << ": " << status.ToString() << "\n";
        });
  }

  const Config& config_;
  EventLoop& loop_;
  DnsResolver& resolver_;
  const DestinationGuard& guard_;
  HttpsFetch& fetch_;
  SSL_CTX* upstream_tls_;
  const Destination destination_;
  const std::optional<HttpsUrl> url_;
  std::mt19937_64 rng_;
  size_t next_ = 0;
  std::string not_delegated_;
  std::unique_ptr<DnsQuery> srv_;
  std::unique_ptr<TlsConnectAttempt> attempt_;
  int exit_code_ = kResolveFailed;
};

}  // namespace

int RunResolve(const Config& config, const std::string& domain_arg,
               const std::string& service_arg) {
  const std::string service = NormalizeServiceName(service_arg);
  Result<std::string> domain = NormalizeDomain(domain_arg);
  if (!domain.ok()) {
    std::cerr << "deputy resolve: " << domain.status().message() << "\n";
    return kResolveFailed;
  }
  if (!IsValidServiceName(service)) {
    std::cerr << "deputy resolve: \"" << service << "\" is not a valid service name\n";
    return kResolveFailed;
  }
  auto discovery_tls =
      TlsClientContext::Create(config.discovery.ca_file, TlsVersion::kTls12, "http/1.1");
  auto upstream_tls =
      TlsClientContext::Create(config.upstream.ca_file, config.upstream.min_tls_version);
  if (!discovery_tls.ok() || !upstream_tls.ok()) {
    std::cerr << "deputy resolve: "
              << (discovery_tls.ok() ? upstream_tls.status() : discovery_tls.status()).message()
              << "\n";
    return kResolveFailed;
  }
  Result<HttpsUrl> url =
      ParseHttpsUrl(ExpandUrlTemplate(config.discovery.url_template, *domain, service));
  if (!url.ok()) {
    std::cerr << "deputy resolve: " << url.status().message() << "\n";
    return kResolveFailed;
  }

  int exit_code = kResolveFailed;
  {
    EventLoop loop;
    DnsResolver resolver(loop, config.dns.Settings());
    if (!resolver.status().ok()) {
      std::cerr << "deputy resolve: " << resolver.status().message() << "\n";
      return kResolveFailed;
    }
    DestinationGuard guard(config.policy.allowed_networks, config.policy.denied_networks);
    ConnectTimeouts timeouts{config.upstream.connect_timeout_ms,
                             config.upstream.handshake_timeout_ms,
                             config.upstream.happy_eyeballs_delay_ms};
    FetchLimits limits{config.discovery.timeout_ms, config.discovery.max_document_bytes,
                       config.discovery.max_redirects, timeouts};
    HttpsFetch fetch(loop, resolver, guard, discovery_tls->get(), limits);
    SourceWalk walk(config, loop, resolver, guard, fetch, upstream_tls->get(),
                    Destination{*domain, service, PortForService(service, config)},
                    std::move(url).value());
    walk.Next();
    loop.Run();
    exit_code = walk.exit_code();
  }
  return exit_code;
}

}  // namespace deputy
