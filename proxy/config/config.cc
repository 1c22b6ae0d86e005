#include "config/config.h"

namespace deputy {

std::string SocketAddress::ToString() const {
  const std::string port_text = std::to_string(port);
  // Only IPv6 literals contain colons; brackets keep their colons apart from the port's.
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port_text;
  return host + ":" + port_text;
}

std::vector<IpEndpoint> DnsConfig::ServerEndpoints() const {
  std::vector<IpEndpoint> endpoints;
  for (const SocketAddress& server : servers) {
    if (std::optional<IpEndpoint> endpoint = ParseIpLiteral(server.host, server.port)) {
      endpoints.push_back(*endpoint);
    }
  }
  return endpoints;
}

}  // namespace deputy
