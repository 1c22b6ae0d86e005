#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <array>

#include "admin/metrics.h"
#include "net/dns_observer.h"

namespace deputy {

// DnsMetrics records what every worker's resolver reports in deputy's Prometheus metrics,
// each series made at 0 so that rate() and alerts work before the first lookup.
class DnsMetrics : public DnsObserver {
 public:
  explicit DnsMetrics(Metrics& metrics);

  void OnLookup(DnsType type, DnsLookupResult result) override;
  void OnQuery(DnsType type, DnsQueryResult result, double seconds) override;
  void OnCacheEntries(long delta) override;
  void OnQueriesInFlight(long delta) override;

 private:
  static constexpr size_t kTypes = 3;
  static size_t IndexOf(DnsType type);

  Metrics& metrics_;
  // Resolved once: finding a series by its labels takes the family's lock.
  std::array<std::array<prometheus::Counter*, kDnsLookupResults>, kTypes> lookups_{};
  std::array<std::array<prometheus::Counter*, kDnsQueryResults>, kTypes> queries_{};
  std::array<prometheus::Histogram*, kTypes> durations_{};
};

}  // namespace deputy
