#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace deputy {

// CredentialCache remembers, for a while, which user:password pairs verified against which
// stored hash, so a client that opens many tunnels pays for one slow hash, not one per tunnel
// (Squid's credentialsttl). It keeps no password: only an HMAC-SHA256 of user, password and
// stored hash under a key drawn at start, so a changed hash (a reloaded users file) no longer
// matches. At most `max_entries`; when full, expired entries go first, then an arbitrary one.
// Thread-safe: one cache serves every worker.
class CredentialCache {
 public:
  using Clock = std::chrono::steady_clock;

  CredentialCache(std::chrono::seconds ttl, size_t max_entries);

  bool enabled() const { return ttl_.count() > 0; }
  bool Contains(std::string_view user, std::string_view password, std::string_view hash,
                Clock::time_point now) const;
  void Insert(std::string_view user, std::string_view password, std::string_view hash,
              Clock::time_point now);
  size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  std::string Digest(std::string_view user, std::string_view password, std::string_view hash) const;

  std::chrono::seconds ttl_;
  size_t max_entries_;
  std::array<uint8_t, 32> key_{};
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Clock::time_point> entries_;  // digest -> expiry
};

}  // namespace deputy
