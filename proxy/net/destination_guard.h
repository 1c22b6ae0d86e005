#pragma once

#include <optional>
#include <string>
#include <vector>

#include "net/address.h"
#include "net/ip_network.h"

namespace deputy {

// DestinationGuard decides which addresses deputy may connect to on anyone's behalf, so that
// neither a client nor a delegation document can aim it at the networks behind it (SSRF, the
// confused deputy). By default every special-purpose range is prohibited: loopback, private,
// link-local (cloud metadata), shared, documentation, benchmarking, multicast and reserved
// space, and the IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4, Teredo), which are
// judged again by the IPv4 address they carry. `allowed` exempts addresses from those ranges;
// `denied` prohibits more, even public ones, and wins over `allowed`.
//
// Callers check the very address they are about to connect to, after resolution, so a name
// that resolves differently later (DNS rebinding) cannot slip past the check.
class DestinationGuard {
 public:
  DestinationGuard(std::vector<IpNetwork> allowed, std::vector<IpNetwork> denied);

  // Prohibits returns why `endpoint` may not be connected to ("loopback 127.0.0.0/8"), or
  // nothing if it may. The reason names the address's range, so it is for logs, not clients.
  std::optional<std::string> Prohibits(const IpEndpoint& endpoint) const;

  struct NamedNetwork {
    IpNetwork network;
    std::string name;
  };
  // SpecialPurpose lists the ranges prohibited unless allowed.
  static const std::vector<NamedNetwork>& SpecialPurpose();

 private:
  std::optional<std::string> Judge(const IpAddress& address) const;

  std::vector<IpNetwork> allowed_;
  std::vector<IpNetwork> denied_;
};

}  // namespace deputy
