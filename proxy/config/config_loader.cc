#include "config/config_loader.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config_names.h"
#include "config/json_fields.h"
#include "config/policy_loader.h"
#include "http/url.h"
#include "net/address.h"
#include "net/names.h"

namespace deputy {

namespace config_json {
namespace {

constexpr uint32_t kMaxRedirects = 10;
constexpr uint16_t kDnsPort = 53;
constexpr size_t kMaxDnsServers = 8;
constexpr uint32_t kMaxDnsAttempts = 10;
// c-ares takes its per-try timeout as an int; ten minutes is far beyond any useful wait.
constexpr uint32_t kMaxDnsTimeoutMs = 600000;
constexpr uint32_t kMaxDnsTtlS = 7 * 86400;
constexpr uint32_t kMaxDnsCacheEntries = 10000000;
constexpr uint32_t kMinBufferBytes = 4096;
constexpr uint32_t kMaxBufferBytes = 16 << 20;
// A config file is small; the cap keeps `deputy check -c /dev/zero` from eating memory.
constexpr size_t kMaxFileBytes = 4 << 20;

std::string ErrnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

bool ReadAddress(Errors* errors, const Json& value, const std::string& path, SocketAddress* out) {
  if (!value.is_string()) {
    errors->Add(path, "expected a string \"address:port\", got " + Shown(value));
    return false;
  }
  Result<SocketAddress> address = ParseSocketAddress(value.get_ref<const std::string&>());
  if (!address.ok()) {
    errors->Add(path, address.status().message());
    return false;
  }
  *out = std::move(address).value();
  return true;
}

// A realm is quoted in Proxy-Authenticate, so it stays printable ASCII without quotes.
bool IsFitRealm(const std::string& realm) {
  return !realm.empty() && realm.size() <= 64 &&
         std::all_of(realm.begin(), realm.end(),
                     [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
}

ListenerAuthConfig ReadListenerAuth(Errors* errors, const Json& json, const std::string& path) {
  const Object object(errors, json, path, {"type", "users_file", "realm"});
  ListenerAuthConfig auth;
  if (const Json* type = object.Require("type", "required: \"basic\"")) {
    bool basic = false;
    ReadChoice(errors, *type, object.PathOf("type"), {{"basic", true}}, &basic);
  }
  if (const Json* file = object.Require("users_file", "required: a file of user:hash lines")) {
    ReadString(errors, *file, object.PathOf("users_file"), &auth.users_file);
  }
  if (const Json* realm = object.Find("realm");
      realm != nullptr && ReadString(errors, *realm, object.PathOf("realm"), &auth.realm) &&
      !IsFitRealm(auth.realm)) {
    errors->Add(object.PathOf("realm"),
                Quoted(auth.realm) +
                    " is not 1-64 printable ASCII characters without '\"' or "
                    "'\\'");
  }
  return auth;
}

ListenerTlsConfig ReadListenerTls(Errors* errors, const Json& json, const std::string& path) {
  const Object object(errors, json, path,
                      {"cert_file", "key_file", "client_ca_file", "require_client_cert",
                       "min_version", "handshake_timeout_ms"});
  ListenerTlsConfig tls;
  if (const Json* cert = object.Require("cert_file", "required: the PEM certificate chain")) {
    ReadString(errors, *cert, object.PathOf("cert_file"), &tls.cert_file);
  }
  if (const Json* key = object.Require("key_file", "required: the PEM private key")) {
    ReadString(errors, *key, object.PathOf("key_file"), &tls.key_file);
  }
  if (const Json* ca = object.Find("client_ca_file")) {
    ReadString(errors, *ca, object.PathOf("client_ca_file"), &tls.client_ca_file);
  }
  if (const Json* required = object.Find("require_client_cert")) {
    ReadBool(errors, *required, object.PathOf("require_client_cert"), &tls.require_client_cert);
    if (tls.client_ca_file.empty()) {
      errors->Add(object.PathOf("require_client_cert"),
                  "only with client_ca_file: the CAs that issue client certificates");
    }
  }
  object.Choice("min_version", kTlsVersionNames, &tls.min_version);
  object.Positive("handshake_timeout_ms", &tls.handshake_timeout_ms);
  return tls;
}

ListenerConfig ReadListener(Errors* errors, const Json& json, const std::string& path) {
  const Object object(errors, json, path,
                      {"name", "type", "address", "domain", "service", "port", "max_header_bytes",
                       "header_timeout_ms", "max_connections", "auth", "proxy_protocol",
                       "proxy_protocol_from", "tls"});
  ListenerConfig listener;
  if (const Json* name = object.Require("name");
      name != nullptr && ReadString(errors, *name, object.PathOf("name"), &listener.name) &&
      !IsPlainName(listener.name)) {
    errors->Add(object.PathOf("name"),
                Shown(*name) + " is not a valid listener name (letters, digits, '_', '.', '-')");
  }
  object.Choice("type", kListenerTypeNames, &listener.type);
  if (const Json* address = object.Require("address")) {
    ReadAddress(errors, *address, object.PathOf("address"), &listener.address);
  }
  object.Positive("max_connections", &listener.max_connections);
  object.Bool("proxy_protocol", &listener.proxy_protocol);
  if (const Json* from = object.Find("proxy_protocol_from")) {
    ReadNetworks(errors, *from, object.PathOf("proxy_protocol_from"),
                 &listener.proxy_protocol_from);
    if (!listener.proxy_protocol) {
      errors->Add(object.PathOf("proxy_protocol_from"), "only with \"proxy_protocol\": true");
    }
  }
  // Trusting every peer's header would let any client claim any address.
  if (listener.proxy_protocol && listener.proxy_protocol_from.empty() && object.valid()) {
    errors->Add(object.PathOf("proxy_protocol_from"),
                "required with proxy_protocol: the networks of the load balancers");
  }
  if (const Json* tls = object.Find("tls")) {
    listener.tls = ReadListenerTls(errors, *tls, object.PathOf("tls"));
  }

  if (listener.type == ListenerType::kSocks5) {
    object.Forbid("domain", "only fixed listeners take a domain");
    object.Forbid("service", "only fixed listeners take a service");
    object.Forbid("port", "only fixed listeners take a port");
    object.Forbid("max_header_bytes", "SOCKS messages have fixed sizes");
    object.Positive("header_timeout_ms", &listener.header_timeout_ms);
    if (const Json* auth = object.Find("auth")) {
      listener.auth = ReadListenerAuth(errors, *auth, object.PathOf("auth"));
    }
    return listener;
  }
  if (listener.type == ListenerType::kConnect) {
    // A CONNECT client names domain and service itself; a fixed target here would be ignored.
    object.Forbid("domain", "only fixed listeners take a domain");
    object.Forbid("service", "only fixed listeners take a service");
    object.Forbid("port", "only fixed listeners take a port");
    object.Positive("max_header_bytes", &listener.max_header_bytes);
    object.Positive("header_timeout_ms", &listener.header_timeout_ms);
    if (const Json* auth = object.Find("auth")) {
      listener.auth = ReadListenerAuth(errors, *auth, object.PathOf("auth"));
    }
    return listener;
  }

  if (const Json* domain = object.Require("domain", "required for a fixed listener")) {
    ReadDomain(errors, *domain, object.PathOf("domain"), &listener.domain);
  }
  if (const Json* service = object.Require("service", "required for a fixed listener")) {
    ReadService(errors, *service, object.PathOf("service"), &listener.service);
  }
  if (const Json* port = object.Find("port")) {
    uint32_t number = 0;
    if (ReadUint32(errors, *port, object.PathOf("port"), 1, kMaxPort, &number)) {
      listener.port = static_cast<uint16_t>(number);
    }
  }
  // A fixed listener reads no request head, so head limits would silently do nothing.
  object.Forbid("max_header_bytes", "only connect listeners take max_header_bytes");
  object.Forbid("header_timeout_ms", "only connect and socks5 listeners take header_timeout_ms");
  object.Forbid("auth",
                "a fixed listener's client sends no credentials; use a connect or socks5 listener");
  return listener;
}

// SameBinding reports whether two addresses would collide on bind(); port 0 never collides since
// each bind picks its own ephemeral port.
bool SameBinding(const SocketAddress& a, const SocketAddress& b) {
  return a.port != 0 && a.port == b.port && a.host == b.host;
}

void ReadListeners(Errors* errors, const Json* json, std::vector<ListenerConfig>* out) {
  const std::string path = "listeners";
  if (json == nullptr) {
    errors->Add(path, "at least one listener is required");
    return;
  }
  if (!json->is_array()) {
    errors->Add(path, "expected a list of listeners, got " + Shown(*json));
    return;
  }
  if (json->empty()) {
    errors->Add(path, "at least one listener is required");
    return;
  }
  for (size_t i = 0; i < json->size(); ++i) {
    const std::string item = Index(path, i);
    ListenerConfig listener = ReadListener(errors, (*json)[i], item);
    for (size_t j = 0; j < out->size(); ++j) {
      const ListenerConfig& earlier = (*out)[j];
      if (earlier.name == listener.name) {
        errors->Add(item + ".name",
                    Quoted(listener.name) + " is also the name of " + Index(path, j));
      }
      if (SameBinding(earlier.address, listener.address)) {
        errors->Add(item + ".address", Quoted(listener.address.ToString()) +
                                           " is also the address of " + Index(path, j));
      }
    }
    out->push_back(std::move(listener));
  }
}

void ReadAdmin(Errors* errors, const Json& json, AdminConfig* out) {
  const Object object(errors, json, "admin", {"address", "token_file"});
  if (const Json* address = object.Find("address")) {
    SocketAddress parsed;
    if (ReadAddress(errors, *address, object.PathOf("address"), &parsed)) out->address = parsed;
  }
  object.String("token_file", &out->token_file);
  if (const Json* file = object.Find("token_file");
      file && file->is_string() && file->get<std::string>().empty()) {
    errors->Add(object.PathOf("token_file"), "must name a file");
  }
  if (!out->token_file.empty() && !out->address) {
    errors->Add(object.PathOf("token_file"), "needs admin.address: there is no admin listener");
  }
}

void CheckUrlTemplate(Errors* errors, const std::string& path, const std::string& url) {
  // Plain http would let anyone on the path choose where deputy connects.
  if (url.rfind("https://", 0) != 0) {
    errors->Add(path, Quoted(url) + " must start with https://");
  } else if (url.find("{domain}") == std::string::npos) {
    errors->Add(path, Quoted(url) + " must contain {domain}");
  } else if (url.find("{service}") == std::string::npos) {
    errors->Add(path, Quoted(url) + " must contain {service}");
  } else if (Result<HttpsUrl> sample =
                 ParseHttpsUrl(ExpandUrlTemplate(url, "example.org", "xmpp-client"));
             !sample.ok()) {
    // A template that cannot form a URL for a sample name would fail every lookup at run time.
    errors->Add(path, Quoted(url) + " does not form a valid URL: " + sample.status().message());
  }
}

// ReadSources reads discovery.sources, or the older discovery.fallback that it replaces.
void ReadSources(Errors* errors, const Object& object, std::vector<DiscoverySource>* out) {
  const Json* sources = object.Find("sources");
  if (const Json* fallback = object.Find("fallback")) {
    if (sources != nullptr) {
      errors->Add(object.PathOf("fallback"),
                  "give discovery.sources or discovery.fallback, not both (\"fallback\": "
                  "\"direct\" is \"sources\": [\"well-known\", \"direct\"])");
      return;
    }
    if (!fallback->is_string() || (*fallback != "direct" && *fallback != "deny")) {
      errors->Add(object.PathOf("fallback"),
                  R"(expected "direct" or "deny", got )" + Shown(*fallback));
      return;
    }
    *out = {DiscoverySource::kWellKnown};
    if (*fallback == "direct") out->push_back(DiscoverySource::kDirect);
    return;
  }
  if (sources == nullptr) return;
  const std::string path = object.PathOf("sources");
  if (!sources->is_array() || sources->empty()) {
    errors->Add(path, R"(expected a non-empty list of "well-known", "srv" and "direct", got )" +
                          Shown(*sources));
    return;
  }
  std::vector<DiscoverySource> read;
  for (size_t i = 0; i < sources->size(); ++i) {
    const Json& entry = (*sources)[i];
    std::optional<DiscoverySource> source;
    for (const auto& [name, value] : kDiscoverySourceNames) {
      if (entry.is_string() && entry == name) source = value;
    }
    if (!source) {
      errors->Add(Index(path, i),
                  R"(expected "well-known", "srv" or "direct", got )" + Shown(entry));
      return;
    }
    if (std::find(read.begin(), read.end(), *source) != read.end()) {
      errors->Add(Index(path, i), Shown(entry) + " is listed twice");
      return;
    }
    if (!read.empty() && read.back() == DiscoverySource::kDirect) {
      errors->Add(Index(path, i), R"(comes after "direct", which always answers)");
      return;
    }
    read.push_back(*source);
  }
  *out = std::move(read);
}

void ReadDiscovery(Errors* errors, const Json& json, DiscoveryConfig* out) {
  const Object object(errors, json, "discovery",
                      {"ca_file", "url_template", "timeout_ms", "max_document_bytes", "min_ttl_s",
                       "max_ttl_s", "default_ttl_s", "negative_ttl_s", "fallback", "sources",
                       "max_redirects", "max_inflight_fetches", "max_inflight_fetches_per_domain",
                       "cache_max_entries", "cache_max_bytes", "max_entries_per_domain"});
  object.String("ca_file", &out->ca_file);
  if (const Json* url = object.Find("url_template");
      url != nullptr &&
      ReadString(errors, *url, object.PathOf("url_template"), &out->url_template)) {
    CheckUrlTemplate(errors, object.PathOf("url_template"), out->url_template);
  }
  object.Positive("timeout_ms", &out->timeout_ms);
  object.Positive("max_document_bytes", &out->max_document_bytes);
  object.NonNegative("min_ttl_s", &out->min_ttl_s);
  object.NonNegative("max_ttl_s", &out->max_ttl_s);
  object.NonNegative("default_ttl_s", &out->default_ttl_s);
  object.NonNegative("negative_ttl_s", &out->negative_ttl_s);
  // Compared after reading, so a value left out takes part with its default.
  if (out->min_ttl_s > out->max_ttl_s) {
    errors->Add(object.PathOf("min_ttl_s"), std::to_string(out->min_ttl_s) +
                                                " is above max_ttl_s (" +
                                                std::to_string(out->max_ttl_s) + ")");
  } else if (out->default_ttl_s < out->min_ttl_s || out->default_ttl_s > out->max_ttl_s) {
    errors->Add(object.PathOf("default_ttl_s"),
                std::to_string(out->default_ttl_s) + " is outside [min_ttl_s, max_ttl_s] = [" +
                    std::to_string(out->min_ttl_s) + ", " + std::to_string(out->max_ttl_s) + "]");
  }
  ReadSources(errors, object, &out->sources);
  object.Uint32("max_redirects", 0, kMaxRedirects, &out->max_redirects);
  object.Positive("max_inflight_fetches", &out->max_inflight_fetches);
  object.Positive("max_inflight_fetches_per_domain", &out->max_inflight_fetches_per_domain);
  object.Positive("cache_max_entries", &out->cache_max_entries);
  object.Positive("cache_max_bytes", &out->cache_max_bytes);
  object.Positive("max_entries_per_domain", &out->max_entries_per_domain);
}

void ReadUpstream(Errors* errors, const Json& json, UpstreamConfig* out) {
  const Object object(errors, json, "upstream",
                      {"ca_file", "min_tls_version", "connect_timeout_ms", "handshake_timeout_ms",
                       "happy_eyeballs_delay_ms", "max_attempts", "connect_budget_ms",
                       "idle_timeout_s", "buffer_bytes", "allow_truncation"});
  object.String("ca_file", &out->ca_file);
  object.Choice("min_tls_version", kTlsVersionNames, &out->min_tls_version);
  object.Positive("connect_timeout_ms", &out->connect_timeout_ms);
  object.Positive("handshake_timeout_ms", &out->handshake_timeout_ms);
  // RFC 8305 section 8: at least 10 ms, at most 2 s.
  object.Uint32("happy_eyeballs_delay_ms", 10, 2000, &out->happy_eyeballs_delay_ms);
  object.Positive("max_attempts", &out->max_attempts);
  object.Positive("connect_budget_ms", &out->connect_budget_ms);
  object.Positive("idle_timeout_s", &out->idle_timeout_s);
  object.Uint32("buffer_bytes", kMinBufferBytes, kMaxBufferBytes, &out->buffer_bytes);
  object.Bool("allow_truncation", &out->allow_truncation);
}

// ReadIpAddress accepts a bare IPv4 or IPv6 literal and returns it in canonical form.
bool ReadIpAddress(Errors* errors, const Json& value, const std::string& path, std::string* out) {
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    unsigned char bytes[16];
    char canonical[INET6_ADDRSTRLEN];
    for (const int family : {AF_INET, AF_INET6}) {
      if (inet_pton(family, text.c_str(), bytes) == 1 &&
          inet_ntop(family, bytes, canonical, sizeof canonical) != nullptr) {
        *out = canonical;
        return true;
      }
    }
  }
  errors->Add(path, "expected an IPv4 or IPv6 address, got " + Shown(value));
  return false;
}

void ReadDnsHosts(Errors* errors, const Json& json, const std::string& path,
                  std::map<std::string, std::vector<std::string>>* out) {
  if (!ExpectObject(errors, json, path)) return;
  std::map<std::string, std::string> spelled;  // normalized name -> key as written
  for (auto it = json.begin(); it != json.end(); ++it) {
    const std::string entry = Member(path, it.key());
    std::string name;
    if (!ReadDomain(errors, Json(it.key()), entry, &name)) continue;
    if (const auto [earlier, inserted] = spelled.emplace(name, it.key()); !inserted) {
      errors->Add(entry, "names the same domain as " + Member(path, earlier->second));
      continue;
    }
    const Json& addresses = it.value();
    if (!addresses.is_array() || addresses.empty()) {
      errors->Add(entry, "expected a non-empty list of IP addresses, got " + Shown(addresses));
      continue;
    }
    std::vector<std::string>& list = (*out)[name];
    for (size_t i = 0; i < addresses.size(); ++i) {
      std::string address;
      if (ReadIpAddress(errors, addresses[i], Index(entry, i), &address)) list.push_back(address);
    }
  }
}

// ReadDnsServers accepts a non-empty list of name servers, each "ip" (port 53) or "ip:port".
void ReadDnsServers(Errors* errors, const Json& json, const std::string& path,
                    std::vector<SocketAddress>* out) {
  if (!json.is_array() || json.empty() || json.size() > kMaxDnsServers) {
    errors->Add(path, "expected a list of 1 to " + std::to_string(kMaxDnsServers) +
                          " name servers (\"ip\" or \"ip:port\"), got " + Shown(json));
    return;
  }
  for (size_t i = 0; i < json.size(); ++i) {
    const Json& entry = json[i];
    if (entry.is_string()) {
      const std::string& text = entry.get_ref<const std::string&>();
      if (std::optional<IpEndpoint> bare = ParseIpLiteral(text, kDnsPort)) {
        std::string host = text.front() == '[' ? text.substr(1, text.size() - 2) : text;
        out->push_back(SocketAddress{std::move(host), kDnsPort});
        continue;
      }
    }
    SocketAddress address;
    if (ReadAddress(errors, entry, Index(path, i), &address)) out->push_back(std::move(address));
  }
}

void ReadDns(Errors* errors, const Json& json, DnsConfig* out) {
  const Object object(errors, json, "dns",
                      {"hosts", "timeout_ms", "servers", "attempts", "min_ttl_s", "max_ttl_s",
                       "max_negative_ttl_s", "cache_max_entries", "max_inflight_queries"});
  if (const Json* hosts = object.Find("hosts")) {
    ReadDnsHosts(errors, *hosts, object.PathOf("hosts"), &out->hosts);
  }
  object.Positive("timeout_ms", &out->timeout_ms);
  if (out->timeout_ms > kMaxDnsTimeoutMs) {
    errors->Add(object.PathOf("timeout_ms"), std::to_string(out->timeout_ms) + " is above " +
                                                 std::to_string(kMaxDnsTimeoutMs) + " ms");
  }
  if (const Json* servers = object.Find("servers")) {
    ReadDnsServers(errors, *servers, object.PathOf("servers"), &out->servers);
  }
  object.Uint32("attempts", 1, kMaxDnsAttempts, &out->attempts);
  object.Uint32("min_ttl_s", 0, kMaxDnsTtlS, &out->min_ttl_s);
  object.Uint32("max_ttl_s", 0, kMaxDnsTtlS, &out->max_ttl_s);
  object.Uint32("max_negative_ttl_s", 0, kMaxDnsTtlS, &out->max_negative_ttl_s);
  object.Uint32("cache_max_entries", 0, kMaxDnsCacheEntries, &out->cache_max_entries);
  object.Positive("max_inflight_queries", &out->max_inflight_queries);
  // Compared after reading, so a value left out takes part with its default.
  if (out->min_ttl_s > out->max_ttl_s) {
    errors->Add(object.PathOf("min_ttl_s"), std::to_string(out->min_ttl_s) +
                                                " is above max_ttl_s (" +
                                                std::to_string(out->max_ttl_s) + ")");
  }
}

void ReadLimits(Errors* errors, const Json& json, LimitsConfig* out) {
  const Object object(errors, json, "limits", {"max_connections"});
  uint32_t max_connections = 0;
  object.Positive("max_connections", &max_connections);
  if (max_connections > 0) out->max_connections = max_connections;
}

void ReadAuth(Errors* errors, const Json& json, AuthConfig* out) {
  const Object object(errors, json, "auth",
                      {"max_failures", "failure_window_s", "cache_ttl_s", "max_checks_running",
                       "max_checks_waiting", "check_timeout_ms"});
  object.Positive("max_failures", &out->max_failures);
  object.Positive("failure_window_s", &out->failure_window_s);
  object.NonNegative("cache_ttl_s", &out->cache_ttl_s);
  object.Positive("max_checks_running", &out->max_checks_running);
  object.NonNegative("max_checks_waiting", &out->max_checks_waiting);
  object.Positive("check_timeout_ms", &out->check_timeout_ms);
}

void ReadServices(Errors* errors, const Json& json, std::map<std::string, uint16_t>* out) {
  if (!ExpectObject(errors, json, "services")) return;
  for (auto it = json.begin(); it != json.end(); ++it) {
    const std::string entry = Member("services", it.key());
    if (!IsValidServiceName(it.key())) {
      errors->Add(entry, NotAServiceName(it.key()));
      continue;
    }
    // Service names are case-insensitive, so two keys that fold together name one service.
    const std::string name = NormalizeServiceName(it.key());
    if (out->contains(name)) {
      errors->Add(entry, "names the same service as another key (service names ignore case)");
      continue;
    }
    uint32_t port = 0;
    if (ReadUint32(errors, it.value(), entry, 1, kMaxPort, &port)) {
      (*out)[name] = static_cast<uint16_t>(port);
    }
  }
}

void ReadLog(Errors* errors, const Json& json, LogConfig* out) {
  const Object object(errors, json, "log", {"level", "format"});
  LogLevel level = LogLevel::kInfo;
  if (object.Find("level")) {
    object.Choice("level", kLogLevelNames, &level);
    out->level = level;
  }
  object.Choice("format", kLogFormatNames, &out->format);
}

void ReadAccessLog(Errors* errors, const Json& json, AccessLogConfig* out) {
  const Object object(errors, json, "access_log", {"path"});
  object.String("path", &out->path);
  if (object.Find("path") && out->path.empty()) {
    errors->Add(object.PathOf("path"), "must name a file; leave it out for stdout");
  }
}

void ReadRoot(Errors* errors, const Json& json, Config* config) {
  const Object root(errors, json, "",
                    {"listeners", "workers", "limits", "log", "access_log", "auth", "admin",
                     "discovery", "upstream", "dns", "policy", "services"});
  if (!root.valid()) return;
  uint32_t workers = 0;
  root.Uint32("workers", 1, kMaxWorkers, &workers);
  if (workers > 0) config->workers = workers;
  ReadListeners(errors, root.Find("listeners"), &config->listeners);
  if (const Json* limits = root.Find("limits")) ReadLimits(errors, *limits, &config->limits);
  if (const Json* log = root.Find("log")) ReadLog(errors, *log, &config->log);
  if (const Json* access_log = root.Find("access_log")) {
    ReadAccessLog(errors, *access_log, &config->access_log);
  }
  if (const Json* auth = root.Find("auth")) ReadAuth(errors, *auth, &config->auth);
  if (const Json* admin = root.Find("admin")) ReadAdmin(errors, *admin, &config->admin);
  if (const Json* discovery = root.Find("discovery")) {
    ReadDiscovery(errors, *discovery, &config->discovery);
  }
  if (const Json* upstream = root.Find("upstream")) {
    ReadUpstream(errors, *upstream, &config->upstream);
  }
  if (const Json* dns = root.Find("dns")) ReadDns(errors, *dns, &config->dns);
  if (const Json* policy = root.Find("policy")) ReadPolicy(errors, *policy, &config->policy);
  CheckPolicyListeners(errors, config->policy, config->listeners);
  if (const Json* services = root.Find("services")) {
    ReadServices(errors, *services, &config->services);
  }
  if (!config->admin.address) return;
  for (size_t i = 0; i < config->listeners.size(); ++i) {
    if (SameBinding(*config->admin.address, config->listeners[i].address)) {
      errors->Add("admin.address", Quoted(config->admin.address->ToString()) +
                                       " is also the address of " + Index("listeners", i));
    }
  }
}

// DuplicateKeyFinder follows the parser's events and records the path of the first key that
// appears twice in one object. nlohmann keeps only the last value, so without this the first
// would be ignored without a word.
class DuplicateKeyFinder {
 public:
  void Observe(Json::parse_event_t event, const Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        frames_.emplace_back().object = true;
        break;
      case Json::parse_event_t::array_start:
        frames_.emplace_back();
        break;
      case Json::parse_event_t::key: {
        Frame& top = frames_.back();
        top.key = parsed.get<std::string>();
        if (!top.keys.insert(top.key).second && path_.empty()) path_ = CurrentPath();
        break;
      }
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        frames_.pop_back();
        NextElement();
        break;
      case Json::parse_event_t::value:
        NextElement();
        break;
    }
  }

  // path is empty when no key repeats.
  const std::string& path() const { return path_; }

 private:
  struct Frame {
    bool object = false;
    std::string key;   // objects: the member being parsed
    size_t index = 0;  // arrays: the element being parsed
    std::set<std::string> keys;
  };

  void NextElement() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
  }

  std::string CurrentPath() const {
    std::string path;
    for (const Frame& frame : frames_) {
      path = frame.object ? Member(path, frame.key) : Index(path, frame.index);
    }
    return path;
  }

  std::vector<Frame> frames_;
  std::string path_;
};

// SyntaxErrorText gives the line and column of a parse error. They are computed here from the
// byte offset because nlohmann's own count lags by one after a newline.
std::string SyntaxErrorText(std::string_view text, const Json::parse_error& error) {
  const size_t index = error.byte == 0 ? 0 : std::min<size_t>(error.byte - 1, text.size());
  const auto before = text.substr(0, index);
  const size_t line = 1 + std::count(before.begin(), before.end(), '\n');
  const size_t last_newline = before.rfind('\n');
  const size_t column = index - (last_newline == std::string_view::npos ? 0 : last_newline + 1) + 1;

  // Keep nlohmann's description, without its "[json.exception...] parse error at ...: " prefix.
  const std::string what = error.what();
  std::string detail = what;
  if (const size_t at = what.find(", column "); at != std::string::npos) {
    if (const size_t colon = what.find(": ", at); colon != std::string::npos) {
      detail = what.substr(colon + 2);
    }
  } else if (const size_t bracket = what.find("] "); bracket != std::string::npos) {
    detail = what.substr(bracket + 2);
  }
  return "JSON syntax error at line " + std::to_string(line) + ", column " +
         std::to_string(column) + ": " + detail;
}

Result<Config> Parse(std::string_view text, Errors errors) {
  try {
    DuplicateKeyFinder duplicates;
    Json document;
    try {
      document = Json::parse(text, [&duplicates](int, Json::parse_event_t event, Json& parsed) {
        duplicates.Observe(event, parsed);
        return true;
      });
    } catch (const Json::parse_error& error) {
      errors.Add("", SyntaxErrorText(text, error));
      return errors.status();
    }
    if (!duplicates.path().empty()) {
      errors.Add(duplicates.path(), "duplicate key");
      return errors.status();
    }
    Config config;
    ReadRoot(&errors, document, &config);
    if (!errors.ok()) return errors.status();
    return config;
  } catch (const std::exception& error) {
    // Not expected: every access above is type-checked first. Still, nothing may escape.
    errors.Add("", std::string("cannot read the document: ") + error.what());
    return errors.status();
  }
}

Status ReadFile(const std::string& path, std::string* out) {
  const auto fail = [&path](std::string_view what) {
    return Status(ErrorCode::kInvalidConfig, path + ": " + std::string(what));
  };
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (file == nullptr) return fail("cannot open: " + ErrnoText(errno));
  char chunk[16384];
  while (true) {
    const size_t n = std::fread(chunk, 1, sizeof chunk, file.get());
    out->append(chunk, n);
    if (out->size() > kMaxFileBytes) return fail("larger than 4 MiB, not a config file");
    if (n < sizeof chunk) break;
  }
  if (std::ferror(file.get())) return fail("cannot read: " + ErrnoText(errno));
  return Status::Ok();
}

Status CheckReadable(const std::string& key, const std::string& path) {
  const auto fail = [&](std::string_view what) {
    return Status(ErrorCode::kInvalidConfig, key + ": " + Quoted(path) + " " + std::string(what));
  };
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (file == nullptr) return fail("cannot be opened: " + ErrnoText(errno));
  char byte = 0;
  if (std::fread(&byte, 1, 1, file.get()) == 1) return Status::Ok();
  // A directory opens fine and fails here with EISDIR; an empty bundle trusts nothing.
  if (std::ferror(file.get())) return fail("cannot be read: " + ErrnoText(errno));
  return fail("is empty");
}

}  // namespace
}  // namespace config_json

Result<SocketAddress> ParseSocketAddress(std::string_view text) {
  const Status invalid(ErrorCode::kInvalidConfig,
                       config_json::Quoted(text) + " is not a valid address:port");
  std::string_view host;
  std::string_view port;
  int family = AF_INET;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || text.substr(close + 1, 1) != ":") return invalid;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    family = AF_INET6;
  } else {
    const size_t colon = text.find(':');
    if (colon == std::string_view::npos) return invalid;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return invalid;
  }
  uint32_t number = 0;
  for (char c : port) number = number * 10 + static_cast<uint32_t>(c - '0');
  if (number > config_json::kMaxPort) return invalid;

  const std::string host_text(host);  // inet_pton needs a terminated string
  unsigned char bytes[16];
  char canonical[INET6_ADDRSTRLEN];
  if (inet_pton(family, host_text.c_str(), bytes) != 1 ||
      inet_ntop(family, bytes, canonical, sizeof canonical) == nullptr) {
    return invalid;
  }
  return SocketAddress{canonical, static_cast<uint16_t>(number)};
}

Result<Config> ParseConfig(std::string_view json_text) {
  return config_json::Parse(json_text, config_json::Errors("config", ""));
}

Result<Config> LoadConfig(const std::string& path) {
  std::string text;
  if (Status status = config_json::ReadFile(path, &text); !status.ok()) return status;
  return config_json::Parse(text, config_json::Errors(path, path + ": "));
}

Status CheckFilesReadable(const Config& config) {
  std::vector<std::pair<std::string, const std::string*>> files = {
      {"discovery.ca_file", &config.discovery.ca_file},
      {"upstream.ca_file", &config.upstream.ca_file}};
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const std::optional<ListenerTlsConfig>& tls = config.listeners[i].tls;
    if (!tls) continue;
    const std::string path = config_json::Index("listeners", i) + ".tls.";
    files.emplace_back(path + "cert_file", &tls->cert_file);
    files.emplace_back(path + "key_file", &tls->key_file);
    if (!tls->client_ca_file.empty()) {
      files.emplace_back(path + "client_ca_file", &tls->client_ca_file);
    }
  }
  if (!config.admin.token_file.empty()) {
    files.emplace_back("admin.token_file", &config.admin.token_file);
  }
  for (const auto& [path, file] : files) {
    if (Status status = config_json::CheckReadable(path, *file); !status.ok()) return status;
  }
  return Status::Ok();
}

}  // namespace deputy
