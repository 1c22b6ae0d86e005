// Fuzzes ParseDnsResponse, which reads whatever a name server, or anyone who can forge its UDP
// answers, sends. Layout: [type] [name length] name, then the message.

#include <cstring>
#include <string>
#include <string_view>

#include "fuzz/fuzzer.h"
#include "net/dns_message.h"

namespace deputy::fuzz::dns_message {
namespace {

bool HasUpperCase(std::string_view text) {
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') return true;
  }
  return false;
}

bool SameAnswer(const DnsAnswer& a, const DnsAnswer& b) {
  if (a.kind != b.kind || a.ttl_s != b.ttl_s || a.addresses.size() != b.addresses.size() ||
      a.services.size() != b.services.size()) {
    return false;
  }
  for (size_t i = 0; i < a.addresses.size(); ++i) {
    if (a.addresses[i].ToString() != b.addresses[i].ToString()) return false;
  }
  for (size_t i = 0; i < a.services.size(); ++i) {
    if (a.services[i].target != b.services[i].target) return false;
  }
  return true;
}

}  // namespace

DEPUTY_FUZZER(dns_message) {
  if (size < 2) return;
  static constexpr DnsType kTypes[] = {DnsType::kA, DnsType::kAaaa, DnsType::kSrv};
  const DnsType type = kTypes[data[0] % 3];
  const size_t name_length = std::min<size_t>(data[1], size - 2);
  const std::string name(reinterpret_cast<const char*>(data + 2), name_length);
  const unsigned char* message = data + 2 + name_length;
  const size_t length = size - 2 - name_length;

  const std::optional<DnsAnswer> answer = ParseDnsResponse(message, length, name, type);
  if (!answer) return;
  const std::optional<DnsAnswer> again = ParseDnsResponse(message, length, name, type);
  DEPUTY_FUZZ_CHECK(again.has_value() && SameAnswer(*answer, *again));
  DEPUTY_FUZZ_CHECK(!answer->ttl_s || *answer->ttl_s <= 0x7fffffffu);
  const bool has_records = !answer->addresses.empty() || !answer->services.empty();
  DEPUTY_FUZZ_CHECK(has_records == (answer->kind == DnsAnswer::Kind::kRecords));
  if (answer->kind == DnsAnswer::Kind::kRecords) DEPUTY_FUZZ_CHECK(answer->ttl_s.has_value());
  for (const IpEndpoint& address : answer->addresses) {
    DEPUTY_FUZZ_CHECK(type != DnsType::kSrv);
    DEPUTY_FUZZ_CHECK(address.storage.ss_family == (type == DnsType::kA ? AF_INET : AF_INET6));
    DEPUTY_FUZZ_CHECK(address.port() == 0);
  }
  for (const SrvRecord& record : answer->services) {
    DEPUTY_FUZZ_CHECK(type == DnsType::kSrv);
    DEPUTY_FUZZ_CHECK(!HasUpperCase(record.target));
    DEPUTY_FUZZ_CHECK(record.target.empty() || record.target.back() != '.');
  }
}

}  // namespace deputy::fuzz::dns_message
