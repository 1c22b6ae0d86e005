#include "net/address.h"

#include <arpa/inet.h>
#include <uv.h>

#include <cstring>

namespace deputy {

uint16_t IpEndpoint::port() const {
  if (storage.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
}

std::string IpEndpoint::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (storage.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, text,
              sizeof(text));
    return "[" + std::string(text) + "]:" + std::to_string(port());
  }
  inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, text, sizeof(text));
  return std::string(text) + ":" + std::to_string(port());
}

std::optional<IpEndpoint> ParseIpLiteral(std::string_view host, uint16_t port) {
  bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  if (host.empty() || host.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string text(host);  // inet_pton needs a terminated string
  IpEndpoint endpoint;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&endpoint.storage);
  if (!bracketed && inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return endpoint;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&endpoint.storage);
  if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return endpoint;
  }
  return std::nullopt;
}

bool IsIpLiteral(std::string_view host) { return ParseIpLiteral(host, 0).has_value(); }

std::optional<IpEndpoint> PeerEndpoint(const uv_tcp_t* tcp) {
  IpEndpoint endpoint;
  int len = sizeof(endpoint.storage);
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&endpoint.storage), &len) != 0) {
    return std::nullopt;
  }
  return endpoint;
}

std::optional<IpEndpoint> LocalEndpoint(const uv_tcp_t* tcp) {
  IpEndpoint endpoint;
  int len = sizeof(endpoint.storage);
  if (uv_tcp_getsockname(tcp, reinterpret_cast<sockaddr*>(&endpoint.storage), &len) != 0) {
    return std::nullopt;
  }
  return endpoint;
}

}  // namespace deputy
