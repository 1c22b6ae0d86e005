#pragma once

#include "admin/metrics.h"
#include "delegation/cache_observer.h"

namespace deputy {

// CacheMetrics records what the delegation cache reports in deputy's Prometheus metrics.
class CacheMetrics : public CacheObserver {
 public:
  explicit CacheMetrics(Metrics& metrics) : metrics_(metrics) {}

  void OnLookup(LookupResult result) override;
  void OnFetch(std::string_view status) override;
  void OnFetchDuration(double seconds) override;
  void OnFetchesInFlight(size_t fetches) override;
  void OnSize(size_t entries, size_t bytes) override;
  void OnEviction(EvictionReason reason) override;

 private:
  Metrics& metrics_;
};

}  // namespace deputy
