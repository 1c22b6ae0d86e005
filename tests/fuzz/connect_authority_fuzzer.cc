// Fuzzes ConnectFrontend::ParseAuthority, which reads the `domain:service` or `domain:port` a
// client names in its CONNECT request. The whole input is the authority.

#include <string>
#include <string_view>

#include "config/config.h"
#include "config/services_db.h"
#include "frontends/connect_frontend.h"
#include "fuzz/fuzzer.h"
#include "net/names.h"

namespace deputy::fuzz::connect_authority {
namespace {

Config MakeConfig() {
  Config config;
  config.services = {{"xmpp-client", 5222}, {"fuzz-service", 4000}};
  return config;
}

}  // namespace

DEPUTY_FUZZER(connect_authority) {
  static const Config config = MakeConfig();
  const std::string_view authority(reinterpret_cast<const char*>(data), size);
  const Result<Destination> destination = ConnectFrontend::ParseAuthority(authority, config);
  if (!destination.ok()) {
    DEPUTY_FUZZ_CHECK(destination.status().code() == ErrorCode::kBadRequest);
    // The reason reaches the client's Proxy-Status header and our logs.
    DEPUTY_FUZZ_CHECK(IsPrintableAscii(destination.status().message()));
    DEPUTY_FUZZ_CHECK(destination.status().message().size() <= 512);
    return;
  }
  const size_t colon = authority.rfind(':');
  DEPUTY_FUZZ_CHECK(colon != std::string_view::npos);
  const std::string_view tail = authority.substr(colon + 1);

  // The domain is what the client wrote before the colon, normalized, and never an address:
  // a client must not steer deputy to an arbitrary IP.
  const Result<std::string> domain = NormalizeDomain(authority.substr(0, colon));
  DEPUTY_FUZZ_CHECK(domain.ok() && *domain == destination->domain);
  DEPUTY_FUZZ_CHECK(!IsIpLiteral(destination->domain));

  if (destination->port) DEPUTY_FUZZ_CHECK(*destination->port >= 1);
  if (!destination->service.empty()) {
    DEPUTY_FUZZ_CHECK(IsValidServiceName(destination->service));
  }
  if (tail.find_first_not_of("0123456789") == std::string_view::npos) {
    // domain:port keeps the port the client named.
    const size_t first_digit = tail.find_first_not_of('0');
    DEPUTY_FUZZ_CHECK(first_digit != std::string_view::npos && destination->port);
    DEPUTY_FUZZ_CHECK(std::to_string(*destination->port) == tail.substr(first_digit));
  } else {
    // domain:service keeps the service as written, in lower case: service names are
    // case-insensitive (RFC 6335 section 5.1).
    DEPUTY_FUZZ_CHECK(destination->service == NormalizeServiceName(tail));
    DEPUTY_FUZZ_CHECK(destination->port == PortForService(tail, config));
  }
}

}  // namespace deputy::fuzz::connect_authority
