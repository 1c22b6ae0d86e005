#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/address.h"

namespace deputy {

// The record types deputy asks for; each name is a metric label.
enum class DnsType : uint16_t { kA = 1, kAaaa = 28, kSrv = 33 };

std::string_view DnsTypeLabel(DnsType type);

// One SRV record (RFC 2782). An empty target is the root, ".": "decidedly not available".
struct SrvRecord {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  std::string target;  // lower-case, without the trailing dot
};

// DnsAnswer is what a name server said of one (name, type), reduced to what deputy uses.
struct DnsAnswer {
  enum class Kind {
    kRecords,   // at least one record of the type asked for
    kNoData,    // the name exists but has no such record (NOERROR, none in the answer)
    kNxDomain,  // the name does not exist
  };
  Kind kind = Kind::kNoData;
  std::vector<IpEndpoint> addresses;  // A or AAAA, port 0
  std::vector<SrvRecord> services;    // SRV
  // How long the answer may be kept: the least TTL of the records used and of the CNAMEs that
  // led to them; for a negative answer the least of the SOA's TTL and its MINIMUM (RFC 2308
  // section 5), or none when the server sent no SOA, which means it is not to be cached.
  std::optional<uint32_t> ttl_s;
};

// ParseDnsResponse reads the answer to a query for `name` (lower-case, no trailing dot) of
// `type` from a whole DNS response message whose RCODE is NOERROR or NXDOMAIN. Records are
// taken only from the CNAME chain that starts at `name` (at most 16 links), of class IN and of
// the size their type requires; nullopt when the message is malformed or has another RCODE.
std::optional<DnsAnswer> ParseDnsResponse(const unsigned char* message, size_t length,
                                          std::string_view name, DnsType type);

}  // namespace deputy
