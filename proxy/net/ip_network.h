#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "net/address.h"

namespace deputy {

// IpAddress is a bare IPv4 or IPv6 address (no port), as bytes in network order.
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4 uses the first 4

  static IpAddress Of(const IpEndpoint& endpoint);
  static IpAddress V4(uint32_t host_order);
  size_t bits() const { return v6 ? 128 : 32; }
  std::string ToString() const;
};

// IpNetwork is a CIDR block: every address of one family whose first `prefix` bits match.
struct IpNetwork {
  IpAddress base;
  unsigned prefix = 0;

  bool Contains(const IpAddress& address) const;
  std::string ToString() const;  // "10.0.0.0/8", "fc00::/7"
};

// ParseIpNetwork reads "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). Bits
// set beyond the prefix ("10.0.0.1/8") are refused: they usually mean a typo, and the operator
// should see it. Errors are kInvalidConfig and quote the input.
Result<IpNetwork> ParseIpNetwork(std::string_view text);

// AnyContains says whether one of `networks` holds `address`.
bool AnyContains(const std::vector<IpNetwork>& networks, const IpAddress& address);

// Ipv4MappedNetwork is ::ffff:0:0/96, how a dual-stack socket shows an IPv4 peer; Unmapped
// turns such an address into the IPv4 address it carries and returns any other unchanged.
const IpNetwork& Ipv4MappedNetwork();
IpAddress Unmapped(const IpAddress& address);

}  // namespace deputy
