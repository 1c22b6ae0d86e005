#pragma once

#include <cstddef>
#include <string_view>

namespace deputy {

// How one delegation lookup was answered; each value is a metric label.
enum class LookupResult {
  kHit,       // from the cache, a document (including [])
  kNegative,  // from the cache, a 404/410 "not delegated"
  kMiss,      // fetched, usable answer
  kError,     // fetched, failed or unusable answer
  kLimit,     // refused: too many fetches in flight, in all or under the name's domain
};
inline constexpr size_t kLookupResults = 5;

// Why an entry left the cache; each value is a metric label.
enum class EvictionReason {
  kLru,          // the cache was full (entries or bytes); least recently used went
  kDomainShare,  // its registrable domain held discovery.max_entries_per_domain already
  kExpired,      // its lifetime ended
  kReload,       // a reload changed where delegations are fetched from or who is trusted
};

constexpr std::string_view LookupResultLabel(LookupResult result) {
  switch (result) {
    case LookupResult::kHit:
      return "hit";
    case LookupResult::kNegative:
      return "negative";
    case LookupResult::kMiss:
      return "miss";
    case LookupResult::kError:
      return "error";
    case LookupResult::kLimit:
      return "limit";
  }
  return "error";
}

constexpr std::string_view EvictionReasonLabel(EvictionReason reason) {
  switch (reason) {
    case EvictionReason::kLru:
      return "lru";
    case EvictionReason::kDomainShare:
      return "domain_share";
    case EvictionReason::kExpired:
      return "expired";
    case EvictionReason::kReload:
      return "reload";
  }
  return "lru";
}

// CacheObserver is told what the delegation cache does, so the cache need not know how it is
// measured (admin/cache_metrics.h turns it into Prometheus metrics).
class CacheObserver {
 public:
  virtual ~CacheObserver() = default;

  virtual void OnLookup(LookupResult result) = 0;
  // `status` is the final HTTP status ("200", "404", ...), "invalid" for one outside 100-599,
  // "error" when no usable response arrived, or "cancelled" when every waiter left first.
  virtual void OnFetch(std::string_view status) = 0;
  virtual void OnFetchDuration(double seconds) = 0;
  virtual void OnFetchesInFlight(size_t fetches) = 0;
  virtual void OnSize(size_t entries, size_t bytes) = 0;
  virtual void OnEviction(EvictionReason reason) = 0;
};

}  // namespace deputy
