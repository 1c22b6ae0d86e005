#include "config/config.h"

namespace deputy {

std::string SocketAddress::ToString() const {
  const std::string port_text = std::to_string(port);
  // Only IPv6 literals contain colons; brackets keep their colons apart from the port's.
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port_text;
  return host + ":" + port_text;
}

DnsSettings DnsConfig::Settings() const {
  DnsSettings settings;
  settings.hosts = hosts;
  for (const SocketAddress& server : servers) {
    if (std::optional<IpEndpoint> endpoint = ParseIpLiteral(server.host, server.port)) {
      settings.servers.push_back(*endpoint);
    }
  }
  settings.timeout_ms = timeout_ms;
  settings.attempts = attempts;
  settings.cache.min_ttl_s = min_ttl_s;
  settings.cache.max_ttl_s = max_ttl_s;
  settings.cache.max_negative_ttl_s = max_negative_ttl_s;
  settings.cache.max_entries = cache_max_entries;
  settings.max_inflight_queries = max_inflight_queries;
  return settings;
}

}  // namespace deputy
