#include "cli/resolve_command.h"

#include <iostream>
#include <random>

#include "base/untrusted_text.h"
#include "config/services_db.h"
#include "delegation/interpret.h"
#include "http/https_client.h"
#include "http/url.h"
#include "loop/event_loop.h"
#include "net/dns_resolver.h"
#include "net/names.h"
#include "session/route_plan.h"
#include "tls/tls_connector.h"
#include "tls/tls_context.h"

namespace deputy {

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
                             config.upstream.handshake_timeout_ms};
    FetchLimits limits{config.discovery.timeout_ms, config.discovery.max_document_bytes,
                       config.discovery.max_redirects, timeouts};
    HttpsFetch fetch(loop, resolver, guard, discovery_tls->get(), limits);
    std::unique_ptr<TlsConnectAttempt> attempt;
    std::mt19937_64 rng(std::random_device{}());
    Destination destination{*domain, service, PortForService(service, config)};

    std::cout << "fetching " << url->ToString() << "\n";
    fetch.Start(*url, [&](Result<FetchResult> fetched) {
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
          *fetched, config.discovery,
          [&resolver](const std::string& host) { return resolver.HasStaticHost(host); }, &skipped);
      for (const std::string& reason : skipped) std::cout << "skipped " << reason << "\n";
      if (!delegation.ok()) {
        std::cout << "lookup failed: " << delegation.status().ToString() << "\n";
        return;
      }
      std::cout << "cache lifetime: " << (*delegation)->ttl_s << " s\n";
      auto route = PlanRoute(**delegation, destination, config.discovery.fallback, rng);
      if (!route.ok()) {
        std::cout << "refused: " << route.status().ToString() << "\n";
        exit_code = kResolveNotDelegated;
        return;
      }
      bool delegated = (*delegation)->kind == Delegation::Kind::kTargets;
      std::cout << (delegated ? "delegated" : "not delegated; fallback direct")
                << ", targets in order:\n";
      for (size_t i = 0; i < route->size(); ++i) {
        const Target& t = (*route)[i];
        std::cout << "  " << i + 1 << ". " << t.host << ":" << t.port << " verify " << t.domain
                  << " (priority " << t.priority << ", weight " << t.weight << ")\n";
      }
      const Target first = route->front();
      attempt =
          std::make_unique<TlsConnectAttempt>(loop, resolver, guard, upstream_tls->get(), timeouts);
      attempt->Start(
          first.host, first.port, first.domain,
          [&, delegated, first](Result<TlsConnection> connection) {
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
            loop.DeferDelete(std::move(connection->stream));
            exit_code = delegated ? kResolveDelegated : kResolveNotDelegated;
          },
          [](const std::string& where, const Status& status) {
            // The operator's own tool: addresses and reasons are what it is for.
            std::cout << "  " << where << ": " << status.ToString() << "\n";
          });
    });
    loop.Run();
  }
  return exit_code;
}

}  // namespace deputy
