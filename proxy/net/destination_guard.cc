#include "net/destination_guard.h"

#include <algorithm>

namespace deputy {

namespace {

IpNetwork Must(std::string_view cidr) { return ParseIpNetwork(cidr).value(); }

// EmbeddedIpv4 returns the IPv4 addresses an IPv6 address carries in the forms the kernel or a
// gateway may translate: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64
// (64:ff9b::a.b.c.d), 6to4 (2002:aabb:ccdd::) and Teredo (2001:0:server::~client).
std::vector<IpAddress> EmbeddedIpv4(const IpAddress& address) {
  std::vector<IpAddress> out;
  if (!address.v6) return out;
  const auto& b = address.bytes;
  auto v4_at = [&](size_t at, bool inverted) {
    IpAddress v4;
    for (size_t i = 0; i < 4; ++i) {
      v4.bytes[i] = inverted ? static_cast<uint8_t>(~b[at + i]) : b[at + i];
    }
    return v4;
  };
  static const IpNetwork kCompatible = Must("::/96");
  // :: and ::1 are the unspecified and loopback addresses, not IPv4-compatible ones (RFC 4291
  // section 2.5.5.1); each is judged as itself.
  static const IpNetwork kNotCompatible = Must("::/127");
  static const IpNetwork kNat64 = Must("64:ff9b::/96");
  static const IpNetwork kSixToFour = Must("2002::/16");
  static const IpNetwork kTeredo = Must("2001::/32");
  if (Ipv4MappedNetwork().Contains(address) ||
      (kCompatible.Contains(address) && !kNotCompatible.Contains(address)) ||
      kNat64.Contains(address)) {
    out.push_back(v4_at(12, false));
  }
  if (kSixToFour.Contains(address)) out.push_back(v4_at(2, false));
  if (kTeredo.Contains(address)) {
    out.push_back(v4_at(4, false));  // the Teredo server
    out.push_back(v4_at(12, true));  // the client, stored inverted
  }
  return out;
}

}  // namespace

const std::vector<DestinationGuard::NamedNetwork>& DestinationGuard::SpecialPurpose() {
  // RFC 6890 and the IANA special-purpose registries. For IPv6 only global unicast (2000::/3)
  // is reachable at all; the named ranges come first so the reason is specific.
  static const std::vector<NamedNetwork> kRanges = {
      {Must("0.0.0.0/8"), "\"this network\""},
      {Must("10.0.0.0/8"), "private-use"},
      {Must("100.64.0.0/10"), "shared address space"},
      {Must("127.0.0.0/8"), "loopback"},
      {Must("169.254.0.0/16"), "link-local (cloud metadata)"},
      {Must("172.16.0.0/12"), "private-use"},
      {Must("192.0.0.0/24"), "IETF protocol assignments"},
      {Must("192.0.2.0/24"), "documentation"},
      {Must("192.88.99.0/24"), "6to4 relay anycast (deprecated)"},
      {Must("192.168.0.0/16"), "private-use"},
      {Must("198.18.0.0/15"), "benchmarking"},
      {Must("198.51.100.0/24"), "documentation"},
      {Must("203.0.113.0/24"), "documentation"},
      {Must("224.0.0.0/4"), "multicast"},
      {Must("240.0.0.0/4"), "reserved"},
      {Must("255.255.255.255/32"), "broadcast"},
      {Must("::/128"), "unspecified"},
      {Must("::1/128"), "loopback"},
      {Must("::/96"), "IPv4-compatible (deprecated)"},
      {Must("::ffff:0:0/96"), "IPv4-mapped"},
      {Must("64:ff9b::/96"), "NAT64"},
      {Must("64:ff9b:1::/48"), "local-use NAT64"},
      {Must("2001::/32"), "Teredo"},
      {Must("2001:2::/48"), "benchmarking"},
      {Must("2001::/23"), "IETF protocol assignments"},
      {Must("2001:db8::/32"), "documentation"},
      {Must("2002::/16"), "6to4"},
      {Must("3fff::/20"), "documentation"},
      {Must("fc00::/7"), "unique local"},
      {Must("fe80::/10"), "link-local"},
      {Must("fec0::/10"), "site-local (deprecated)"},
      {Must("ff00::/8"), "multicast"},
      // Everything else outside 2000::/3 (100::/64 discard, 5f00::/16, SIIT ::ffff:0:0:0/96...).
      {Must("::/3"), "outside global unicast 2000::/3"},
      {Must("4000::/2"), "outside global unicast 2000::/3"},
      {Must("8000::/1"), "outside global unicast 2000::/3"},
  };
  return kRanges;
}

DestinationGuard::DestinationGuard(std::vector<IpNetwork> allowed, std::vector<IpNetwork> denied)
    : allowed_(std::move(allowed)), denied_(std::move(denied)) {}

std::optional<std::string> DestinationGuard::Prohibits(const IpEndpoint& endpoint) const {
  IpAddress address = IpAddress::Of(endpoint);
  if (std::optional<std::string> reason = Judge(address)) return reason;
  for (const IpAddress& carried : EmbeddedIpv4(address)) {
    if (std::optional<std::string> reason = Judge(carried)) {
      return "carries " + carried.ToString() + ", " + *reason;
    }
  }
  return std::nullopt;
}

std::optional<std::string> DestinationGuard::Judge(const IpAddress& address) const {
  for (const IpNetwork& network : denied_) {
    if (network.Contains(address)) return "in policy.denied_networks " + network.ToString();
  }
  if (AnyContains(allowed_, address)) return std::nullopt;
  for (const NamedNetwork& special : SpecialPurpose()) {
    if (special.network.Contains(address)) return special.name + " " + special.network.ToString();
  }
  return std::nullopt;
}

}  // namespace deputy
