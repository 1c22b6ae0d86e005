#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace deputy {

// IpEndpoint is a resolved socket address (IPv4 or IPv6).
struct IpEndpoint {
  sockaddr_storage storage{};

  const sockaddr* addr() const { return reinterpret_cast<const sockaddr*>(&storage); }
  uint16_t port() const;
  std::string ToString() const;  // "127.0.0.1:443", "[::1]:443"
};

// ParseIpLiteral turns "127.0.0.1" or "::1" (brackets allowed) and a port into an endpoint.
std::optional<IpEndpoint> ParseIpLiteral(std::string_view host, uint16_t port);

// PeerEndpoint / LocalEndpoint describe a connected or bound libuv TCP handle.
std::optional<IpEndpoint> PeerEndpoint(const uv_tcp_t* tcp);
std::optional<IpEndpoint> LocalEndpoint(const uv_tcp_t* tcp);

}  // namespace deputy
