#include "admin/metrics.h"

#include <openssl/base.h>
#include <prometheus/text_serializer.h>

#include <sstream>
#include <vector>

#include "base/status.h"
#include "log/process_logs.h"

namespace deputy {

namespace {

const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// From 100 µs: a cache hit or a static name answers in microseconds, a remote peer in
// milliseconds.
const prometheus::Histogram::BucketBoundaries kFineLatencyBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};

// From 10 ms to a day: tunnels of a health check to those of a long-lived XMPP session.
const prometheus::Histogram::BucketBoundaries kTunnelDurationBuckets = {
    0.01, 0.1, 1, 10, 60, 300, 900, 3600, 14400, 86400};

// Powers of 4 from 1 KiB to 1 GiB.
const prometheus::Histogram::BucketBoundaries kTunnelBytesBuckets = {
    1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456, 1073741824};

// CatchUp raises `counter` to `total`, a count kept elsewhere.
void CatchUp(prometheus::Counter& counter, uint64_t total) {
  const double missing = static_cast<double>(total) - counter.Value();
  if (missing > 0) counter.Increment(missing);
}

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      connections_(prometheus::BuildCounter()
                       .Name("deputy_connections_total")
                       .Help("Client connections accepted, by listener.")
                       .Register(*registry_)),
      active_(prometheus::BuildGauge()
                  .Name("deputy_connections_active")
                  .Help("Client connections currently open, by listener.")
                  .Register(*registry_)),
      tunnels_(prometheus::BuildCounter()
                   .Name("deputy_tunnels_total")
                   .Help("Finished client sessions by listener and result (ok or an error label).")
                   .Register(*registry_)),
      bytes_(prometheus::BuildCounter()
                 .Name("deputy_bytes_total")
                 .Help("Application bytes relayed: upstream = client to target, downstream = "
                       "target to client.")
                 .Register(*registry_)),
      lookups_(prometheus::BuildCounter()
                   .Name("deputy_delegation_lookups_total")
                   .Help("Delegation lookups by outcome: hit, miss, negative (cached 404/410), "
                         "error, limit (refused: too many fetches in flight).")
                   .Register(*registry_)),
      fetches_(prometheus::BuildCounter()
                   .Name("deputy_delegation_fetches_total")
                   .Help("Well-known document fetches by HTTP status, or error.")
                   .Register(*registry_)),
      policy_decisions_(prometheus::BuildCounter()
                            .Name("deputy_policy_decisions_total")
                            .Help("Access policy decisions, by the rule that made them (or "
                                  "default, or connect_ports) and the action.")
                            .Register(*registry_)),
      proxy_authentications_(
          prometheus::BuildCounter()
              .Name("deputy_proxy_authentications_total")
              .Help("Proxy credentials checked, by listener and result: ok, cached (verified "
                    "recently), failed, rate_limited, overloaded.")
              .Register(*registry_)),
      users_file_loads_(prometheus::BuildCounter()
                            .Name("deputy_users_file_loads_total")
                            .Help("Reads of a listener's users file (at start and on SIGHUP), by "
                                  "result: ok, or error (the users read before stay).")
                            .Register(*registry_)),
      proxy_users_(prometheus::BuildGauge()
                       .Name("deputy_proxy_users")
                       .Help("Users in force from a listener's users file.")
                       .Register(*registry_)),
      listener_tls_loads_(
          prometheus::BuildCounter()
              .Name("deputy_listener_tls_loads_total")
              .Help("Loads of a TLS listener's certificate, key and client CA file (at start and "
                    "on SIGHUP), by result: ok, or error (the ones loaded before stay).")
              .Register(*registry_)),
      listener_certificate_expiry_(
          prometheus::BuildGauge()
              .Name("deputy_listener_certificate_expiry_timestamp_seconds")
              .Help("When the certificate a TLS listener presents expires (notAfter), in "
                    "seconds since the Unix epoch.")
              .Register(*registry_)),
      client_tls_handshakes_(
          prometheus::BuildCounter()
              .Name("deputy_client_tls_handshakes_total")
              .Help("TLS handshakes of clients with a TLS listener, by result: ok, "
                    "ok_with_client_cert (with a verified client certificate), or error.")
              .Register(*registry_)) {
  bytes_upstream_ = &bytes_.Add({{"direction", "upstream"}});
  bytes_downstream_ = &bytes_.Add({{"direction", "downstream"}});
  upstream_handshake_ = &prometheus::BuildHistogram()
                             .Name("deputy_upstream_handshake_seconds")
                             .Help("Time from TCP connect to a verified TLS handshake upstream.")
                             .Register(*registry_)
                             .Add({}, kLatencyBuckets);
  upstream_dns_ = &prometheus::BuildHistogram()
                       .Name("deputy_upstream_dns_seconds")
                       .Help(
                           "Time to resolve the target's host, for each upstream connection that "
                           "succeeds.")
                       .Register(*registry_)
                       .Add({}, kFineLatencyBuckets);
  upstream_connect_ = &prometheus::BuildHistogram()
                           .Name("deputy_upstream_connect_seconds")
                           .Help(
                               "Time of the TCP connect to the address that then verified, for "
                               "each upstream connection that succeeds.")
                           .Register(*registry_)
                           .Add({}, kFineLatencyBuckets);
  lookup_wait_ = &prometheus::BuildHistogram()
                      .Name("deputy_delegation_lookup_seconds")
                      .Help(
                          "Time a session waited for its delegation lookup, cache hits "
                          "included.")
                      .Register(*registry_)
                      .Add({}, kFineLatencyBuckets);
  time_to_first_byte_ = &prometheus::BuildHistogram()
                             .Name("deputy_time_to_first_byte_seconds")
                             .Help(
                                 "Time from accepting a client to the first byte its target "
                                 "sent through the tunnel, observed when the session ends.")
                             .Register(*registry_)
                             .Add({}, kFineLatencyBuckets);
  tunnel_duration_ = &prometheus::BuildHistogram()
                          .Name("deputy_tunnel_duration_seconds")
                          .Help("How long tunnels were up, from the verified upstream to the end.")
                          .Register(*registry_)
                          .Add({}, kTunnelDurationBuckets);
  auto& tunnel_bytes = prometheus::BuildHistogram()
                           .Name("deputy_tunnel_bytes")
                           .Help("Application bytes one tunnel relayed, by direction.")
                           .Register(*registry_);
  tunnel_bytes_upstream_ = &tunnel_bytes.Add({{"direction", "upstream"}}, kTunnelBytesBuckets);
  tunnel_bytes_downstream_ = &tunnel_bytes.Add({{"direction", "downstream"}}, kTunnelBytesBuckets);
  sessions_in_phase_ =
      &prometheus::BuildGauge()
           .Name("deputy_sessions_active")
           .Help("Client sessions open now, by listener and the phase they are in.")
           .Register(*registry_);
  lookup_duration_ = &prometheus::BuildHistogram()
                          .Name("deputy_delegation_fetch_seconds")
                          .Help("Duration of well-known document fetches, redirects included.")
                          .Register(*registry_)
                          .Add({}, kLatencyBuckets);
  cache_entries_ = &prometheus::BuildGauge()
                        .Name("deputy_delegation_cache_entries")
                        .Help("Delegation lookups held in the cache.")
                        .Register(*registry_)
                        .Add({});
  cache_bytes_ = &prometheus::BuildGauge()
                      .Name("deputy_delegation_cache_bytes")
                      .Help("Estimated bytes held by the delegation cache's entries.")
                      .Register(*registry_)
                      .Add({});
  cache_evictions_ = &prometheus::BuildCounter()
                          .Name("deputy_delegation_cache_evictions_total")
                          .Help(
                              "Entries removed from the delegation cache, by reason: lru, "
                              "domain_share, expired, reload.")
                          .Register(*registry_);
  fetches_in_flight_ = &prometheus::BuildGauge()
                            .Name("deputy_delegation_fetches_in_flight")
                            .Help("Well-known document fetches running now.")
                            .Register(*registry_)
                            .Add({});
  dns_lookups_ = &prometheus::BuildCounter()
                      .Name("deputy_dns_lookups_total")
                      .Help(
                          "Name lookups by record type and how the resolver answered: hit, "
                          "negative (a cached NXDOMAIN or NODATA), miss (a query was sent), "
                          "joined (a query in flight), limit (refused).")
                      .Register(*registry_);
  dns_queries_ = &prometheus::BuildCounter()
                      .Name("deputy_dns_queries_total")
                      .Help(
                          "Queries sent to name servers by record type and outcome: records, "
                          "nodata, nxdomain, timeout, error, cancelled.")
                      .Register(*registry_);
  dns_query_duration_ = &prometheus::BuildHistogram()
                             .Name("deputy_dns_query_duration_seconds")
                             .Help("Time name servers took to answer deputy's queries.")
                             .Register(*registry_);
  dns_cache_entries_ = &prometheus::BuildGauge()
                            .Name("deputy_dns_cache_entries")
                            .Help("DNS answers held in the resolvers' caches, all workers.")
                            .Register(*registry_)
                            .Add({});
  dns_queries_in_flight_ = &prometheus::BuildGauge()
                                .Name("deputy_dns_queries_in_flight")
                                .Help("Queries to name servers waiting for an answer now.")
                                .Register(*registry_)
                                .Add({});
  max_connections_ = &prometheus::BuildGauge()
                          .Name("deputy_connections_max")
                          .Help("Client connections deputy accepts at once, on all listeners.")
                          .Register(*registry_)
                          .Add({});
  config_reloads_ = &prometheus::BuildCounter()
                         .Name("deputy_config_reloads_total")
                         .Help(
                             "Configuration reloads (SIGHUP or POST /reload) by result: ok, or "
                             "error (the configuration before stays in force).")
                         .Register(*registry_);
  for (const char* result : {"ok", "error"}) config_reloads_->Add({{"result", result}});
  config_last_reload_success_ =
      &prometheus::BuildGauge()
           .Name("deputy_config_last_reload_success")
           .Help("1 when the last reload applied (or none was tried since start), else 0.")
           .Register(*registry_)
           .Add({});
  config_last_reload_success_time_ =
      &prometheus::BuildGauge()
           .Name("deputy_config_last_reload_success_timestamp_seconds")
           .Help("When the configuration in force was loaded, at start or by a reload.")
           .Register(*registry_)
           .Add({});
  password_checks_ = &prometheus::BuildGauge()
                          .Name("deputy_proxy_auth_checks")
                          .Help(
                              "Proxy password checks by state: running (hashing on a worker "
                              "thread) or waiting for one.")
                          .Register(*registry_);
  for (const char* state : {"running", "waiting"}) password_checks_->Add({{"state", state}});
  for (const char* result : {"hit", "miss", "negative", "error", "limit"})
    lookups_.Add({{"result", result}});
  for (const char* reason : {"lru", "domain_share", "expired", "reload"})
    cache_evictions_->Add({{"reason", reason}});
  auto& log_lines_dropped =
      prometheus::BuildCounter()
          .Name("deputy_log_lines_dropped_total")
          .Help("Log lines dropped because the sink (stdout or stderr) did not keep up, by log.")
          .Register(*registry_);
  access_lines_dropped_ = &log_lines_dropped.Add({{"log", "access"}});
  diagnostic_lines_dropped_ = &log_lines_dropped.Add({{"log", "diagnostic"}});
  // The statuses deputy treats apart (404 and 410 mean "not delegated"), and its own outcomes;
  // other HTTP statuses appear when first seen.
  for (const char* status : {"200", "404", "410", "error", "invalid", "cancelled"}) {
    fetches_.Add({{"status", status}});
  }
  prometheus::BuildGauge()
      .Name("deputy_build_info")
      .Help(
          "Always 1; the labels say which deputy this is and the BoringSSL API it was built "
          "against.")
      .Register(*registry_)
      .Add({{"version", DEPUTY_VERSION}, {"boringssl", std::to_string(BORINGSSL_API_VERSION)}})
      .Set(1);
}

void Metrics::AddListener(const std::string& listener) {
  Connections(listener);
  ActiveConnections(listener);
  for (size_t code = 0; code <= static_cast<size_t>(ErrorCode::kInternal); ++code) {
    Tunnels(listener, Describe(static_cast<ErrorCode>(code)).label);
  }
  SessionsInPhase(listener);
}

std::vector<std::string> Metrics::PhaseListeners() {
  std::lock_guard lock(phase_gauges_mutex_);
  std::vector<std::string> names;
  names.reserve(phase_gauges_.size());
  for (const auto& [name, gauges] : phase_gauges_) names.push_back(name);
  return names;
}

const Metrics::PhaseGauges& Metrics::SessionsInPhase(const std::string& listener) {
  std::lock_guard lock(phase_gauges_mutex_);
  auto [it, added] = phase_gauges_.try_emplace(listener);
  if (added) {
    for (size_t i = 0; i < kSessionPhases; ++i) {
      it->second[i] = &sessions_in_phase_->Add(
          {{"listener", listener},
           {"phase", std::string(SessionPhaseName(static_cast<SessionPhase>(i)))}});
    }
  }
  return it->second;
}

std::string Metrics::Serialize() const {
  const DroppedLogLines dropped = CountDroppedLogLines();
  CatchUp(*access_lines_dropped_, dropped.access);
  CatchUp(*diagnostic_lines_dropped_, dropped.diagnostic);
  prometheus::TextSerializer serializer;
  std::ostringstream out;
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (prometheus::MetricFamily& family : process_.Collect()) {
    families.push_back(std::move(family));
  }
  serializer.Serialize(out, families);
  return out.str();
}

prometheus::Counter& Metrics::Connections(const std::string& listener) {
  return connections_.Add({{"listener", listener}});
}

prometheus::Gauge& Metrics::ActiveConnections(const std::string& listener) {
  return active_.Add({{"listener", listener}});
}

prometheus::Counter& Metrics::Tunnels(const std::string& listener, std::string_view result) {
  return tunnels_.Add({{"listener", listener}, {"result", std::string(result)}});
}

prometheus::Counter& Metrics::Lookups(std::string_view result) {
  return lookups_.Add({{"result", std::string(result)}});
}

prometheus::Counter& Metrics::DnsLookups(std::string_view type, std::string_view result) {
  return dns_lookups_->Add({{"type", std::string(type)}, {"result", std::string(result)}});
}

prometheus::Counter& Metrics::DnsQueries(std::string_view type, std::string_view result) {
  return dns_queries_->Add({{"type", std::string(type)}, {"result", std::string(result)}});
}

prometheus::Histogram& Metrics::DnsQueryDuration(std::string_view type) {
  return dns_query_duration_->Add({{"type", std::string(type)}}, kFineLatencyBuckets);
}

prometheus::Counter& Metrics::Fetches(const std::string& status) {
  return fetches_.Add({{"status", status}});
}

prometheus::Counter& Metrics::PolicyDecisions(std::string_view rule, std::string_view action) {
  return policy_decisions_.Add({{"rule", std::string(rule)}, {"action", std::string(action)}});
}

prometheus::Counter& Metrics::ProxyAuthentications(std::string_view listener,
                                                   std::string_view result) {
  return proxy_authentications_.Add(
      {{"listener", std::string(listener)}, {"result", std::string(result)}});
}

prometheus::Counter& Metrics::UsersFileLoads(std::string_view listener, std::string_view result) {
  return users_file_loads_.Add(
      {{"listener", std::string(listener)}, {"result", std::string(result)}});
}

prometheus::Gauge& Metrics::ProxyUsers(std::string_view listener) {
  return proxy_users_.Add({{"listener", std::string(listener)}});
}

prometheus::Counter& Metrics::ListenerTlsLoads(std::string_view listener, std::string_view result) {
  return listener_tls_loads_.Add(
      {{"listener", std::string(listener)}, {"result", std::string(result)}});
}

prometheus::Gauge& Metrics::ListenerCertificateExpiry(std::string_view listener) {
  return listener_certificate_expiry_.Add({{"listener", std::string(listener)}});
}

prometheus::Counter& Metrics::ClientTlsHandshakes(std::string_view listener,
                                                  std::string_view result) {
  return client_tls_handshakes_.Add(
      {{"listener", std::string(listener)}, {"result", std::string(result)}});
}

prometheus::Gauge& Metrics::PasswordChecks(std::string_view state) {
  return password_checks_->Add({{"state", std::string(state)}});
}

prometheus::Counter& Metrics::ConfigReloads(std::string_view result) {
  return config_reloads_->Add({{"result", std::string(result)}});
}

prometheus::Counter& Metrics::CacheEvictions(std::string_view reason) {
  return cache_evictions_->Add({{"reason", std::string(reason)}});
}

}  // namespace deputy
