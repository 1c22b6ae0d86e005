#include "net/ip_network.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "base/untrusted_text.h"

namespace deputy {

IpAddress IpAddress::Of(const IpEndpoint& endpoint) {
  IpAddress address;
  if (endpoint.storage.ss_family == AF_INET6) {
    address.v6 = true;
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&endpoint.storage);
    std::memcpy(address.bytes.data(), &v6->sin6_addr, 16);
  } else {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&endpoint.storage);
    std::memcpy(address.bytes.data(), &v4->sin_addr, 4);
  }
  return address;
}

IpAddress IpAddress::V4(uint32_t host_order) {
  IpAddress address;
  uint32_t network_order = htonl(host_order);
  std::memcpy(address.bytes.data(), &network_order, 4);
  return address;
}

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof(text));
  return text;
}

bool IpNetwork::Contains(const IpAddress& address) const {
  if (address.v6 != base.v6) return false;
  unsigned whole = prefix / 8;
  if (std::memcmp(address.bytes.data(), base.bytes.data(), whole) != 0) return false;
  unsigned rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (address.bytes[whole] & mask) == (base.bytes[whole] & mask);
}

std::string IpNetwork::ToString() const { return base.ToString() + "/" + std::to_string(prefix); }

Result<IpNetwork> ParseIpNetwork(std::string_view text) {
  auto invalid = [&](const std::string& why) {
    return Status(ErrorCode::kInvalidConfig, QuoteUntrusted(text) + " is not a network: " + why);
  };
  size_t slash = text.find('/');
  std::optional<IpEndpoint> endpoint = ParseIpLiteral(text.substr(0, slash), 0);
  if (!endpoint || text.substr(0, slash).starts_with('[')) {
    return invalid("expected an IPv4 or IPv6 address, then optionally /prefix");
  }
  IpNetwork network;
  network.base = IpAddress::Of(*endpoint);
  network.prefix = static_cast<unsigned>(network.base.bits());
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    unsigned prefix = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
        prefix > network.base.bits() || (digits.size() > 1 && digits[0] == '0')) {
      return invalid("the prefix length must be 0-" + std::to_string(network.base.bits()));
    }
    network.prefix = prefix;
  }
  IpNetwork masked = network;
  for (unsigned bit = network.prefix; bit < network.base.bits(); ++bit) {
    masked.base.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  if (masked.base.bytes != network.base.bytes) {
    return invalid("bits are set beyond the /" + std::to_string(network.prefix) +
                   " prefix (did you mean " + masked.ToString() + "?)");
  }
  return network;
}

const IpNetwork& Ipv4MappedNetwork() {
  static const IpNetwork kMapped = ParseIpNetwork("::ffff:0:0/96").value();
  return kMapped;
}

IpAddress Unmapped(const IpAddress& address) {
  if (!Ipv4MappedNetwork().Contains(address)) return address;
  IpAddress v4;
  std::copy(address.bytes.begin() + 12, address.bytes.end(), v4.bytes.begin());
  return v4;
}

bool AnyContains(const std::vector<IpNetwork>& networks, const IpAddress& address) {
  return std::any_of(networks.begin(), networks.end(),
                     [&](const IpNetwork& network) { return network.Contains(address); });
}

}  // namespace deputy
