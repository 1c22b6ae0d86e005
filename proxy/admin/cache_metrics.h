#pragma once

#include <array>

#include "admin/metrics.h"
#include "delegation/cache_observer.h"

namespace deputy {

// CacheMetrics records what the delegation cache reports in deputy's Prometheus metrics.
class CacheMetrics : public CacheObserver {
 public:
  explicit CacheMetrics(Metrics& metrics);

  void OnLookup(LookupResult result) override;
  void OnFetch(std::string_view status) override;
  void OnFetchDuration(double seconds) override;
  void OnFetchesInFlight(size_t fetches) override;
  void OnSize(size_t entries, size_t bytes) override;
  void OnEviction(EvictionReason reason) override;

 private:
  Metrics& metrics_;
  // Resolved once: a lookup is counted on every cache hit, on every worker, and finding a series
  // by its labels takes the family's lock.
  std::array<prometheus::Counter*, kLookupResults> lookups_{};
};

}  // namespace deputy
