#include "config/config.h"

namespace deputy {

std::string SocketAddress::ToString() const {
  const std::string port_text = std::to_string(port);
  // Only IPv6 literals contain colons; brackets keep their colons apart from the port's.
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port_text;
  return host + ":" + port_text;
}

}  // namespace deputy
