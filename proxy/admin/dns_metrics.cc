#include "admin/dns_metrics.h"

namespace deputy {

namespace {

constexpr std::array<DnsType, 3> kTypesAsked = {DnsType::kA, DnsType::kAaaa, DnsType::kSrv};

}  // namespace

DnsMetrics::DnsMetrics(Metrics& metrics) : metrics_(metrics) {
  for (DnsType type : kTypesAsked) {
    const size_t t = IndexOf(type);
    for (size_t r = 0; r < kDnsLookupResults; ++r) {
      lookups_[t][r] = &metrics_.DnsLookups(DnsTypeLabel(type),
                                            DnsLookupResultLabel(static_cast<DnsLookupResult>(r)));
    }
    for (size_t r = 0; r < kDnsQueryResults; ++r) {
      queries_[t][r] = &metrics_.DnsQueries(DnsTypeLabel(type),
                                            DnsQueryResultLabel(static_cast<DnsQueryResult>(r)));
    }
    durations_[t] = &metrics_.DnsQueryDuration(DnsTypeLabel(type));
  }
}

size_t DnsMetrics::IndexOf(DnsType type) {
  switch (type) {
    case DnsType::kA:
      return 0;
    case DnsType::kAaaa:
      return 1;
    case DnsType::kSrv:
      return 2;
  }
  return 0;
}

void DnsMetrics::OnLookup(DnsType type, DnsLookupResult result) {
  lookups_[IndexOf(type)][static_cast<size_t>(result)]->Increment();
}

void DnsMetrics::OnQuery(DnsType type, DnsQueryResult result, double seconds) {
  queries_[IndexOf(type)][static_cast<size_t>(result)]->Increment();
  // A cancelled query's time says how long its waiters waited, not how the server did.
  if (result != DnsQueryResult::kCancelled) durations_[IndexOf(type)]->Observe(seconds);
}

void DnsMetrics::OnCacheEntries(long delta) {
  metrics_.DnsCacheEntries().Increment(static_cast<double>(delta));
}

void DnsMetrics::OnQueriesInFlight(long delta) {
  metrics_.DnsQueriesInFlight().Increment(static_cast<double>(delta));
}

}  // namespace deputy
