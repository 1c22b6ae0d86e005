#pragma once

#include <cstddef>
#include <string_view>

#include "net/dns_message.h"

namespace deputy {

// How the resolver answered one (name, type) for a lookup; each value is a metric label.
enum class DnsLookupResult {
  kHit,       // from the cache, records
  kNegative,  // from the cache, NXDOMAIN or NODATA
  kMiss,      // a query was sent
  kJoined,    // joined a query already in flight for the same name and type
  kLimit,     // refused: dns.max_inflight_queries were in flight
};
inline constexpr size_t kDnsLookupResults = 5;

// How a query sent to the name servers ended; each value is a metric label.
enum class DnsQueryResult {
  kRecords,    // NOERROR with records
  kNoData,     // NOERROR without
  kNxDomain,   // NXDOMAIN
  kTimeout,    // no answer within dns.timeout_ms
  kError,      // SERVFAIL, REFUSED, unreachable servers, a malformed answer
  kCancelled,  // every lookup waiting for it went away first
};
inline constexpr size_t kDnsQueryResults = 6;

constexpr std::string_view DnsLookupResultLabel(DnsLookupResult result) {
  switch (result) {
    case DnsLookupResult::kHit:
      return "hit";
    case DnsLookupResult::kNegative:
      return "negative";
    case DnsLookupResult::kMiss:
      return "miss";
    case DnsLookupResult::kJoined:
      return "joined";
    case DnsLookupResult::kLimit:
      return "limit";
  }
  return "miss";
}

constexpr std::string_view DnsQueryResultLabel(DnsQueryResult result) {
  switch (result) {
    case DnsQueryResult::kRecords:
      return "records";
    case DnsQueryResult::kNoData:
      return "nodata";
    case DnsQueryResult::kNxDomain:
      return "nxdomain";
    case DnsQueryResult::kTimeout:
      return "timeout";
    case DnsQueryResult::kError:
      return "error";
    case DnsQueryResult::kCancelled:
      return "cancelled";
  }
  return "error";
}

// DnsObserver is told what a resolver does, so net/ need not know how it is measured
// (admin/dns_metrics.h turns it into Prometheus metrics). Called on the resolver's loop; one
// observer serves every worker's resolver, so implementations are thread-safe.
class DnsObserver {
 public:
  virtual ~DnsObserver() = default;

  virtual void OnLookup(DnsType type, DnsLookupResult result) = 0;
  virtual void OnQuery(DnsType type, DnsQueryResult result, double seconds) = 0;
  // Deltas, as each worker's resolver has its own cache and queries.
  virtual void OnCacheEntries(long delta) = 0;
  virtual void OnQueriesInFlight(long delta) = 0;
};

}  // namespace deputy
