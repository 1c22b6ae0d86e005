#include "config/config_writer.h"

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "config/config_names.h"

namespace deputy {

namespace {

using Json = nlohmann::json;

// Json holds std::string, not std::string_view.
template <typename T, size_t N>
std::string Named(const std::array<ChoiceName<T>, N>& names, T value) {
  return std::string(NameOf(names, value));
}

Json Sources(const std::vector<DiscoverySource>& sources) {
  Json out = Json::array();
  for (DiscoverySource source : sources) out.push_back(Named(kDiscoverySourceNames, source));
  return out;
}

Json Networks(const std::vector<IpNetwork>& networks) {
  Json list = Json::array();
  for (const IpNetwork& network : networks) list.push_back(network.ToString());
  return list;
}

Json Ports(const std::vector<PortRange>& ports) {
  Json list = Json::array();
  for (const PortRange& range : ports) {
    if (range.first == range.last) {
      list.push_back(range.first);
    } else {
      list.push_back(std::to_string(range.first) + "-" + std::to_string(range.last));
    }
  }
  return list;
}

Json Listener(const ListenerConfig& listener) {
  Json out = {{"name", listener.name},
              {"type", Named(kListenerTypeNames, listener.type)},
              {"address", listener.address.ToString()},
              {"max_connections", listener.max_connections},
              {"proxy_protocol", listener.proxy_protocol}};
  if (listener.proxy_protocol) out["proxy_protocol_from"] = Networks(listener.proxy_protocol_from);
  if (listener.type == ListenerType::kFixed) {
    out["domain"] = listener.domain;
    out["service"] = listener.service;
    if (listener.port) out["port"] = *listener.port;
  } else {
    out["header_timeout_ms"] = listener.header_timeout_ms;
    if (listener.type == ListenerType::kConnect)
      out["max_header_bytes"] = listener.max_header_bytes;
    if (listener.auth) {
      out["auth"] = {{"type", "basic"},
                     {"users_file", listener.auth->users_file},
                     {"realm", listener.auth->realm}};
    }
  }
  if (listener.tls) {
    const ListenerTlsConfig& tls = *listener.tls;
    out["tls"] = {{"cert_file", tls.cert_file},
                  {"key_file", tls.key_file},
                  {"min_version", Named(kTlsVersionNames, tls.min_version)},
                  {"handshake_timeout_ms", tls.handshake_timeout_ms}};
    if (!tls.client_ca_file.empty()) {
      out["tls"]["client_ca_file"] = tls.client_ca_file;
      out["tls"]["require_client_cert"] = tls.require_client_cert;
    }
  }
  return out;
}

Json Rule(const PolicyRule& rule) {
  Json out = {{"name", rule.name}, {"action", Named(kPolicyActionNames, rule.action)}};
  if (rule.clients) out["clients"] = Networks(*rule.clients);
  if (rule.users) out["users"] = *rule.users;
  if (rule.identities) out["identities"] = *rule.identities;
  if (rule.listeners) out["listeners"] = *rule.listeners;
  if (rule.domains) out["domains"] = *rule.domains;
  if (rule.services) out["services"] = *rule.services;
  if (rule.ports) out["ports"] = Ports(*rule.ports);
  return out;
}

}  // namespace

Json EffectiveConfig(const Config& config) {
  Json listeners = Json::array();
  for (const ListenerConfig& listener : config.listeners) listeners.push_back(Listener(listener));
  Json out = {{"listeners", std::move(listeners)}};
  if (config.workers) out["workers"] = *config.workers;
  out["limits"] = Json::object();
  if (config.limits.max_connections) {
    out["limits"]["max_connections"] = *config.limits.max_connections;
  }
  out["log"] = {{"format", Named(kLogFormatNames, config.log.format)}};
  if (config.log.level) out["log"]["level"] = Named(kLogLevelNames, *config.log.level);
  if (!config.access_log.path.empty()) out["access_log"] = {{"path", config.access_log.path}};
  const AuthConfig& auth = config.auth;
  out["auth"] = {{"max_failures", auth.max_failures},
                 {"failure_window_s", auth.failure_window_s},
                 {"cache_ttl_s", auth.cache_ttl_s},
                 {"max_checks_running", auth.max_checks_running},
                 {"max_checks_waiting", auth.max_checks_waiting},
                 {"check_timeout_ms", auth.check_timeout_ms}};
  out["admin"] = Json::object();
  if (config.admin.address) out["admin"]["address"] = config.admin.address->ToString();
  if (!config.admin.token_file.empty()) out["admin"]["token_file"] = config.admin.token_file;
  const DiscoveryConfig& discovery = config.discovery;
  out["discovery"] = {
      {"ca_file", discovery.ca_file},
      {"url_template", discovery.url_template},
      {"timeout_ms", discovery.timeout_ms},
      {"max_document_bytes", discovery.max_document_bytes},
      {"min_ttl_s", discovery.min_ttl_s},
      {"max_ttl_s", discovery.max_ttl_s},
      {"default_ttl_s", discovery.default_ttl_s},
      {"negative_ttl_s", discovery.negative_ttl_s},
      {"sources", Sources(discovery.sources)},
      {"max_redirects", discovery.max_redirects},
      {"max_inflight_fetches", discovery.max_inflight_fetches},
      {"max_inflight_fetches_per_domain", discovery.max_inflight_fetches_per_domain},
      {"cache_max_entries", discovery.cache_max_entries},
      {"cache_max_bytes", discovery.cache_max_bytes},
      {"max_entries_per_domain", discovery.max_entries_per_domain}};
  const UpstreamConfig& upstream = config.upstream;
  out["upstream"] = {{"ca_file", upstream.ca_file},
                     {"min_tls_version", Named(kTlsVersionNames, upstream.min_tls_version)},
                     {"connect_timeout_ms", upstream.connect_timeout_ms},
                     {"handshake_timeout_ms", upstream.handshake_timeout_ms},
                     {"happy_eyeballs_delay_ms", upstream.happy_eyeballs_delay_ms},
                     {"max_attempts", upstream.max_attempts},
                     {"connect_budget_ms", upstream.connect_budget_ms},
                     {"idle_timeout_s", upstream.idle_timeout_s},
                     {"buffer_bytes", upstream.buffer_bytes},
                     {"allow_truncation", upstream.allow_truncation}};
  Json hosts = Json::object();
  for (const auto& [name, addresses] : config.dns.hosts) hosts[name] = addresses;
  Json servers = Json::array();
  for (const SocketAddress& server : config.dns.servers) servers.push_back(server.ToString());
  out["dns"] = {{"hosts", std::move(hosts)},
                {"timeout_ms", config.dns.timeout_ms},
                {"attempts", config.dns.attempts},
                {"min_ttl_s", config.dns.min_ttl_s},
                {"max_ttl_s", config.dns.max_ttl_s},
                {"max_negative_ttl_s", config.dns.max_negative_ttl_s},
                {"cache_max_entries", config.dns.cache_max_entries},
                {"max_inflight_queries", config.dns.max_inflight_queries}};
  if (!config.dns.servers.empty()) out["dns"]["servers"] = std::move(servers);
  const PolicyConfig& policy = config.policy;
  Json rules = Json::array();
  for (const PolicyRule& rule : policy.rules) rules.push_back(Rule(rule));
  out["policy"] = {{"allowed_networks", Networks(policy.allowed_networks)},
                   {"denied_networks", Networks(policy.denied_networks)},
                   {"rules", std::move(rules)}};
  if (policy.default_action)
    out["policy"]["default"] = Named(kPolicyActionNames, *policy.default_action);
  if (policy.connect_ports) out["policy"]["connect_ports"] = Ports(*policy.connect_ports);
  Json services = Json::object();
  for (const auto& [name, port] : config.services) services[name] = port;
  out["services"] = std::move(services);
  return out;
}

}  // namespace deputy
