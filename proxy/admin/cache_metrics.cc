#include "admin/cache_metrics.h"

#include <string>

namespace deputy {

CacheMetrics::CacheMetrics(Metrics& metrics) : metrics_(metrics) {
  for (size_t i = 0; i < kLookupResults; ++i) {
    lookups_[i] = &metrics_.Lookups(LookupResultLabel(static_cast<LookupResult>(i)));
  }
}

void CacheMetrics::OnLookup(LookupResult result) {
  lookups_[static_cast<size_t>(result)]->Increment();
}

void CacheMetrics::OnFetch(std::string_view status) {
  metrics_.Fetches(std::string(status)).Increment();
}

void CacheMetrics::OnFetchDuration(double seconds) { metrics_.LookupDuration().Observe(seconds); }

void CacheMetrics::OnFetchesInFlight(size_t fetches) {
  metrics_.FetchesInFlight().Set(static_cast<double>(fetches));
}

void CacheMetrics::OnSize(size_t entries, size_t bytes) {
  metrics_.CacheEntries().Set(static_cast<double>(entries));
  metrics_.CacheBytes().Set(static_cast<double>(bytes));
}

void CacheMetrics::OnEviction(EvictionReason reason) {
  metrics_.CacheEvictions(EvictionReasonLabel(reason)).Increment();
}

}  // namespace deputy
