#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "log/log_settings.h"
#include "net/address.h"
#include "net/dns_resolver.h"
#include "net/ip_network.h"
#include "tls/tls_server_settings.h"
#include "tls/tls_version.h"

namespace deputy {

// Plain configuration structs; config_loader.h fills and validates them. Defaults here are the
// defaults a config file gets for keys it leaves out.

struct SocketAddress {
  std::string host;  // an IPv4 or IPv6 literal, e.g. "127.0.0.1" or "::1"
  uint16_t port = 0;
  std::string ToString() const;  // "127.0.0.1:3128", "[::1]:3128"
  bool operator==(const SocketAddress&) const = default;
};

enum class ListenerType { kConnect, kFixed, kSocks5 };

// Proxy authentication on a listener (auth/proxy_authenticator.h).
struct ListenerAuthConfig {
  std::string users_file;  // "user:crypt-hash" lines (auth/users_file.h), re-read on SIGHUP
  std::string realm = "deputy";
};

// TLS toward the listener's clients: what tls/tls_server_context.h loads (and re-loads on
// SIGHUP), and how long a client may take over its handshake.
struct ListenerTlsConfig : TlsServerSettings {
  uint32_t handshake_timeout_ms = 10000;
};

struct ListenerConfig {
  std::string name;
  ListenerType type = ListenerType::kConnect;
  SocketAddress address;
  // fixed listeners only
  std::string domain;
  std::string service;
  std::optional<uint16_t> port;  // port for fallback "direct"; else the service's port
  // connect listeners only
  uint32_t max_header_bytes = 8192;
  // connect and socks5 listeners: the request head, or the whole SOCKS negotiation
  uint32_t header_timeout_ms = 10000;
  std::optional<ListenerAuthConfig> auth;  // clients must authenticate when set
  // Client connections open at once; more are closed on accept (each costs two descriptors).
  uint32_t max_connections = 4096;
  // A PROXY protocol header (v1 or v2) comes first, from a peer in proxy_protocol_from only;
  // the address it carries is the client's for policy, logs and authentication.
  bool proxy_protocol = false;
  std::vector<IpNetwork> proxy_protocol_from;
  // The client speaks TLS to deputy (after the PROXY header, when there is one).
  std::optional<ListenerTlsConfig> tls;
};

struct AdminConfig {
  std::optional<SocketAddress> address;  // no admin listener when absent
  // When set, every admin request but /healthz and /readyz needs this file's bearer token.
  std::string token_file;
  bool operator==(const AdminConfig&) const = default;
};

// Where deputy learns where a service lives, tried in the configured order: the next source
// is asked only when the one before says "not delegated".
enum class DiscoverySource { kWellKnown, kSrv, kDirect };

struct DiscoveryConfig {
  std::string ca_file = "/etc/ssl/certs/ca-certificates.crt";
  std::string url_template = "https://{domain}/.well-known/service/{service}";
  uint32_t timeout_ms = 5000;
  uint32_t max_document_bytes = 65536;
  uint32_t min_ttl_s = 60;
  uint32_t max_ttl_s = 86400;
  uint32_t default_ttl_s = 3600;
  uint32_t negative_ttl_s = 300;
  // `fallback` in the file: "direct" is {kWellKnown, kDirect}, "deny" is {kWellKnown}.
  std::vector<DiscoverySource> sources = {DiscoverySource::kWellKnown, DiscoverySource::kDirect};
  uint32_t max_redirects = 3;
  // Fetches running at once, in all and for names under one registrable domain; a lookup that
  // would start one more is refused (lookup_limit).
  uint32_t max_inflight_fetches = 256;
  uint32_t max_inflight_fetches_per_domain = 32;
  // Cache bounds: keys, estimated bytes (delegation/cache_index.h), and keys under one
  // registrable domain.
  uint32_t cache_max_entries = 10000;
  uint32_t cache_max_bytes = 64 * 1024 * 1024;
  uint32_t max_entries_per_domain = 64;
};

struct UpstreamConfig {
  std::string ca_file = "/etc/ssl/certs/ca-certificates.crt";
  TlsVersion min_tls_version = TlsVersion::kTls12;
  uint32_t connect_timeout_ms = 5000;
  uint32_t handshake_timeout_ms = 5000;
  // How long one address of a target gets before the next is tried beside it (RFC 8305).
  uint32_t happy_eyeballs_delay_ms = 250;
  // One CONNECT, across every target and address: at most this many TCP connects, all within
  // this much time.
  uint32_t max_attempts = 8;
  uint32_t connect_budget_ms = 15000;
  uint32_t idle_timeout_s = 3600;
  uint32_t buffer_bytes = 65536;  // per direction, before reading from the other side pauses
  // A TCP end without TLS close_notify ends the stream cleanly instead of resetting the client.
  bool allow_truncation = false;
};

struct DnsConfig {
  // Names answered from here instead of the system resolver; keys are lower-case.
  std::map<std::string, std::vector<std::string>> hosts;
  uint32_t timeout_ms = 5000;  // one query, every attempt at every server included
  // Name servers asked instead of those of /etc/resolv.conf (port 53 unless given).
  std::vector<SocketAddress> servers;
  uint32_t attempts = 2;  // rounds over the name servers
  // Answers are kept for their TTL clamped to [min_ttl_s, max_ttl_s]; NXDOMAIN and NODATA for
  // their SOA's TTL (RFC 2308) clamped to [min_ttl_s, max_negative_ttl_s].
  uint32_t min_ttl_s = 0;
  uint32_t max_ttl_s = 300;
  uint32_t max_negative_ttl_s = 30;
  uint32_t cache_max_entries = 10000;   // per worker; 0 keeps nothing
  uint32_t max_inflight_queries = 512;  // per worker
  // Settings is this section as a resolver takes it.
  DnsSettings Settings() const;
};

enum class PolicyAction { kAllow, kDeny };

// An inclusive range of ports; a single port has first == last.
struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
};

// One access rule: it matches a request when every matcher it has matches, and a matcher
// matches when any of its alternatives does (policy/access_policy.h). An absent matcher
// matches everything.
struct PolicyRule {
  std::string name;
  PolicyAction action = PolicyAction::kDeny;
  std::optional<std::vector<IpNetwork>> clients;
  std::optional<std::vector<std::string>> users;
  std::optional<std::vector<std::string>> identities;
  std::optional<std::vector<std::string>> listeners;
  std::optional<std::vector<std::string>> domains;   // lower case; "*.example.org" for subdomains
  std::optional<std::vector<std::string>> services;  // normalized service names
  std::optional<std::vector<PortRange>> ports;
};

// Who may go where: the destination guard (net/destination_guard.h) on every address deputy
// connects to, and the access rules on every request.
struct PolicyConfig {
  std::vector<IpNetwork> allowed_networks;  // exempt from the special-purpose ranges
  std::vector<IpNetwork> denied_networks;   // prohibited even if public
  std::vector<PolicyRule> rules;            // in order, the first that matches decides
  // What happens when no rule matches: allow when there are no rules, else deny, unless set.
  std::optional<PolicyAction> default_action;
  // When set, a CONNECT request for a port outside these is refused before any rule.
  std::optional<std::vector<PortRange>> connect_ports;
};

// How proxy authentication is bounded, for every listener that has it.
struct AuthConfig {
  // A client address that fails this often within the window is refused unchecked until the
  // window (from its first failure) ends.
  uint32_t max_failures = 10;
  uint32_t failure_window_s = 60;
  // A verified user:password is trusted this long without hashing again; 0 hashes every time.
  uint32_t cache_ttl_s = 300;
  // Password hashes computed at once (on the verifier's own threads) and waiting; beyond both, a
  // request is refused (auth_overloaded), as is one whose check takes longer than the timeout.
  uint32_t max_checks_running = 2;
  uint32_t max_checks_waiting = 256;
  uint32_t check_timeout_ms = 5000;
  bool operator==(const AuthConfig&) const = default;
};

// Process-wide bounds, across every listener.
struct LimitsConfig {
  // Client connections open at once on all listeners; more are closed on accept. When absent,
  // deputy fits it to the open-file limit (base/descriptor_budget.h).
  std::optional<uint32_t> max_connections;
  bool operator==(const LimitsConfig&) const = default;
};

// The diagnostic log on stderr.
struct LogConfig {
  // When absent, the level of the --log-level option (info unless given).
  std::optional<LogLevel> level;
  LogFormat format = LogFormat::kText;
};

// The access log: one JSON line per session.
struct AccessLogConfig {
  std::string
      path;  // a file, opened for appending and re-opened on SIGUSR1 and SIGHUP; empty: stdout
};

// More event-loop threads than this is a typo, not a machine.
inline constexpr uint32_t kMaxWorkers = 1024;

struct Config {
  std::vector<ListenerConfig> listeners;
  // Event loops, one thread each; when absent, one per CPU deputy may run on.
  std::optional<uint32_t> workers;
  LimitsConfig limits;
  LogConfig log;
  AccessLogConfig access_log;
  AuthConfig auth;
  AdminConfig admin;
  DiscoveryConfig discovery;
  UpstreamConfig upstream;
  DnsConfig dns;
  PolicyConfig policy;
  std::map<std::string, uint16_t> services;  // service name -> port, over /etc/services
};

}  // namespace deputy
