// Fuzzes ParseIpNetwork (the CIDRs of policy.allowed_networks / denied_networks) and the
// destination guard's judgement of the network's own address, IPv4-carrying forms included.
//
// Input: the network text.

#include <string_view>

#include "fuzz/fuzzer.h"
#include "net/destination_guard.h"
#include "net/ip_network.h"

namespace deputy::fuzz::ip_network {

DEPUTY_FUZZER(ip_network) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const Result<IpNetwork> network = ParseIpNetwork(text);
  if (!network.ok()) {
    DEPUTY_FUZZ_CHECK(network.status().code() == ErrorCode::kInvalidConfig);
    DEPUTY_FUZZ_CHECK(IsPrintableAscii(network.status().message()));
    return;
  }
  DEPUTY_FUZZ_CHECK(network->prefix <= network->base.bits());
  DEPUTY_FUZZ_CHECK(network->Contains(network->base));
  // The canonical form reads back as the same network.
  const Result<IpNetwork> again = ParseIpNetwork(network->ToString());
  DEPUTY_FUZZ_CHECK(again.ok());
  DEPUTY_FUZZ_CHECK(again->base.v6 == network->base.v6 && again->prefix == network->prefix &&
                    again->base.bytes == network->base.bytes);

  IpEndpoint endpoint = *ParseIpLiteral(network->base.ToString(), 443);
  // Allowing a network exempts its own base address, unless it carries a prohibited IPv4
  // address; denying it always prohibits.
  const DestinationGuard allowing({*network}, {});
  const DestinationGuard denying({}, {*network});
  DEPUTY_FUZZ_CHECK(denying.Prohibits(endpoint).has_value());
  const std::optional<std::string> reason = allowing.Prohibits(endpoint);
  DEPUTY_FUZZ_CHECK(!reason || reason->starts_with("carries "));
}

}  // namespace deputy::fuzz::ip_network
