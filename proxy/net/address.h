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

// ParseIpLiteral turns an IPv4 dotted quad or an IPv6 address, the latter with or without
// square brackets, and a port into an endpoint. Brackets only ever enclose IPv6 (RFC 3986), so
// "[1.2.3.4]" is not a literal.
std::optional<IpEndpoint> ParseIpLiteral(std::string_view host, uint16_t port);

// IsIpLiteral reports whether ParseIpLiteral accepts `host`.
bool IsIpLiteral(std::string_view host);

// PeerEndpoint / LocalEndpoint describe a connected or bound libuv TCP handle.
std::optional<IpEndpoint> PeerEndpoint(const uv_tcp_t* tcp);
std::optional<IpEndpoint> LocalEndpoint(const uv_tcp_t* tcp);

}  // namespace deputy
