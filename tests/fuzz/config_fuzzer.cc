// Fuzzes ParseConfig. The config comes from the operator, not the network, but `deputy check`
// is meant to take any file and answer with a precise error, never a crash. The whole input is
// the JSON text.

#include <set>
#include <string_view>

#include "config/config_loader.h"
#include "fuzz/fuzzer.h"
#include "net/names.h"

namespace deputy::fuzz::config {
namespace {

// The canonical form of an address parses back to itself.
void CheckAddress(const SocketAddress& address) {
  const Result<SocketAddress> again = ParseSocketAddress(address.ToString());
  DEPUTY_FUZZ_CHECK(again.ok());
  DEPUTY_FUZZ_CHECK(again->host == address.host && again->port == address.port);
}

bool IsNormalizedDomain(const std::string& name) {
  const Result<std::string> normalized = NormalizeDomain(name);
  return normalized.ok() && *normalized == name;
}

void CheckConfig(const Config& config) {
  DEPUTY_FUZZ_CHECK(!config.listeners.empty());
  std::set<std::string> names;
  std::set<std::string> addresses;
  for (const ListenerConfig& listener : config.listeners) {
    DEPUTY_FUZZ_CHECK(names.insert(listener.name).second);
    DEPUTY_FUZZ_CHECK(addresses.insert(listener.address.ToString()).second);
    CheckAddress(listener.address);
    if (listener.type == ListenerType::kFixed) {
      DEPUTY_FUZZ_CHECK(IsNormalizedDomain(listener.domain));
      DEPUTY_FUZZ_CHECK(IsValidServiceName(listener.service));
    }
  }
  if (config.admin.address) CheckAddress(*config.admin.address);

  const DiscoveryConfig& discovery = config.discovery;
  DEPUTY_FUZZ_CHECK(discovery.url_template.starts_with("https://"));
  DEPUTY_FUZZ_CHECK(discovery.url_template.find("{domain}") != std::string::npos);
  DEPUTY_FUZZ_CHECK(discovery.url_template.find("{service}") != std::string::npos);
  DEPUTY_FUZZ_CHECK(discovery.min_ttl_s <= discovery.default_ttl_s);
  DEPUTY_FUZZ_CHECK(discovery.default_ttl_s <= discovery.max_ttl_s);

  for (const auto& [name, hosts] : config.dns.hosts) {
    DEPUTY_FUZZ_CHECK(IsNormalizedDomain(name));
    DEPUTY_FUZZ_CHECK(!hosts.empty());
    for (const std::string& host : hosts) DEPUTY_FUZZ_CHECK(IsIpLiteral(host));
  }
  for (const auto& [service, port] : config.services) {
    DEPUTY_FUZZ_CHECK(IsValidServiceName(service));
    DEPUTY_FUZZ_CHECK(port >= 1);
  }
}

}  // namespace

DEPUTY_FUZZER(config) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const Result<Config> config = ParseConfig(text);
  if (config.ok()) {
    CheckConfig(*config);
    return;
  }
  DEPUTY_FUZZ_CHECK(config.status().code() == ErrorCode::kInvalidConfig);
  DEPUTY_FUZZ_CHECK(!config.status().message().empty());
}

}  // namespace deputy::fuzz::config
