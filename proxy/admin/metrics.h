#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "admin/process_metrics.h"
#include "base/session_phase.h"

namespace deputy {

// Metrics holds every metric family deputy exports, defined in one place (documented in
// metrics/README.md). Labels never carry a domain or a client address, so cardinality stays
// bounded by the configuration and the fixed set of error labels.
class Metrics {
 public:
  Metrics();

  // Serialize is the text exposition; the log-drop counts are read from the logs at this point.
  std::string Serialize() const;

  // AddListener creates `listener`'s series at 0: connections, active connections, and a
  // deputy_tunnels_total series for every result, so rate() and alerts work before the first.
  void AddListener(const std::string& listener);

  prometheus::Counter& Connections(const std::string& listener);
  prometheus::Gauge& ActiveConnections(const std::string& listener);
  prometheus::Counter& Tunnels(const std::string& listener, std::string_view result);
  prometheus::Counter& BytesUpstream() { return *bytes_upstream_; }
  prometheus::Counter& BytesDownstream() { return *bytes_downstream_; }
  prometheus::Counter& Lookups(std::string_view result);
  prometheus::Counter& Fetches(const std::string& status);
  prometheus::Histogram& UpstreamHandshake() { return *upstream_handshake_; }
  prometheus::Histogram& UpstreamDns() { return *upstream_dns_; }
  prometheus::Histogram& UpstreamConnect() { return *upstream_connect_; }
  prometheus::Histogram& LookupWait() { return *lookup_wait_; }
  prometheus::Histogram& TimeToFirstByte() { return *time_to_first_byte_; }
  prometheus::Histogram& TunnelDuration() { return *tunnel_duration_; }
  prometheus::Histogram& TunnelBytesUpstream() { return *tunnel_bytes_upstream_; }
  prometheus::Histogram& TunnelBytesDownstream() { return *tunnel_bytes_downstream_; }
  using PhaseGauges = std::array<prometheus::Gauge*, kSessionPhases>;
  // Sessions of `listener` in each phase now, one gauge per phase, made by AddListener; the
  // reference stays valid as long as the Metrics.
  const PhaseGauges& SessionsInPhase(const std::string& listener);
  // PhaseListeners names every listener SessionsInPhase has gauges for, in order: those of the
  // configuration in force and those a reload removed, whose sessions may still run.
  std::vector<std::string> PhaseListeners();
  prometheus::Histogram& LookupDuration() { return *lookup_duration_; }
  prometheus::Gauge& CacheEntries() { return *cache_entries_; }
  prometheus::Gauge& CacheBytes() { return *cache_bytes_; }
  prometheus::Counter& CacheEvictions(std::string_view reason);
  prometheus::Gauge& FetchesInFlight() { return *fetches_in_flight_; }
  prometheus::Counter& DnsLookups(std::string_view type, std::string_view result);
  prometheus::Counter& DnsQueries(std::string_view type, std::string_view result);
  prometheus::Histogram& DnsQueryDuration(std::string_view type);
  prometheus::Gauge& DnsCacheEntries() { return *dns_cache_entries_; }
  prometheus::Gauge& DnsQueriesInFlight() { return *dns_queries_in_flight_; }
  prometheus::Gauge& MaxConnections() { return *max_connections_; }
  // ConfigReloads counts reloads by result, "ok" or "error".
  prometheus::Counter& ConfigReloads(std::string_view result);
  // Whether the last reload (or the start) applied, and when the configuration last did.
  prometheus::Gauge& ConfigLastReloadSuccess() { return *config_last_reload_success_; }
  prometheus::Gauge& ConfigLastReloadSuccessTime() { return *config_last_reload_success_time_; }
  prometheus::Counter& PolicyDecisions(std::string_view rule, std::string_view action);
  prometheus::Counter& ProxyAuthentications(std::string_view listener, std::string_view result);
  prometheus::Counter& UsersFileLoads(std::string_view listener, std::string_view result);
  prometheus::Gauge& ProxyUsers(std::string_view listener);
  prometheus::Gauge& PasswordChecks(std::string_view state);
  prometheus::Counter& ListenerTlsLoads(std::string_view listener, std::string_view result);
  prometheus::Gauge& ListenerCertificateExpiry(std::string_view listener);
  prometheus::Counter& ClientTlsHandshakes(std::string_view listener, std::string_view result);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& connections_;
  prometheus::Family<prometheus::Gauge>& active_;
  prometheus::Family<prometheus::Counter>& tunnels_;
  prometheus::Family<prometheus::Counter>& bytes_;
  prometheus::Family<prometheus::Counter>& lookups_;
  prometheus::Family<prometheus::Counter>& fetches_;
  prometheus::Family<prometheus::Counter>& policy_decisions_;
  prometheus::Family<prometheus::Counter>& proxy_authentications_;
  prometheus::Family<prometheus::Counter>& users_file_loads_;
  prometheus::Family<prometheus::Gauge>& proxy_users_;
  prometheus::Family<prometheus::Counter>& listener_tls_loads_;
  prometheus::Family<prometheus::Gauge>& listener_certificate_expiry_;
  prometheus::Family<prometheus::Counter>& client_tls_handshakes_;
  prometheus::Family<prometheus::Gauge>* password_checks_;
  prometheus::Counter* bytes_upstream_;
  prometheus::Counter* bytes_downstream_;
  prometheus::Histogram* upstream_handshake_;
  prometheus::Histogram* upstream_dns_;
  prometheus::Histogram* upstream_connect_;
  prometheus::Histogram* lookup_wait_;
  prometheus::Histogram* time_to_first_byte_;
  prometheus::Histogram* tunnel_duration_;
  prometheus::Histogram* tunnel_bytes_upstream_;
  prometheus::Histogram* tunnel_bytes_downstream_;
  prometheus::Family<prometheus::Gauge>* sessions_in_phase_;
  std::mutex phase_gauges_mutex_;
  std::map<std::string, PhaseGauges, std::less<>> phase_gauges_;
  prometheus::Histogram* lookup_duration_;
  prometheus::Gauge* cache_entries_;
  prometheus::Gauge* cache_bytes_;
  prometheus::Family<prometheus::Counter>* cache_evictions_;
  prometheus::Gauge* fetches_in_flight_;
  prometheus::Family<prometheus::Counter>* dns_lookups_;
  prometheus::Family<prometheus::Counter>* dns_queries_;
  prometheus::Family<prometheus::Histogram>* dns_query_duration_;
  prometheus::Gauge* dns_cache_entries_;
  prometheus::Gauge* dns_queries_in_flight_;
  prometheus::Gauge* max_connections_;
  prometheus::Family<prometheus::Counter>* config_reloads_;
  prometheus::Gauge* config_last_reload_success_;
  prometheus::Gauge* config_last_reload_success_time_;
  prometheus::Counter* access_lines_dropped_;
  prometheus::Counter* diagnostic_lines_dropped_;
  ProcessMetrics process_;
};

}  // namespace deputy
