#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "net/ip_network.h"

namespace deputy {

// FailureLimiter counts failed proxy authentications per client address (an IPv6 client by
// its /64, which one host usually holds whole): once an address has failed `max_failures`
// times within one window (which starts at its first failure), it is refused without a
// password check until the window ends. That bounds both password guessing and the hashing
// work one client can make deputy do. A check counts as a failure from the moment it starts
// and is forgiven if it succeeds, so checks in flight cannot exceed the budget. The table
// holds at most `max_addresses`; when it is full, expired windows go first, then the oldest of
// an address not refused (so rotating addresses cannot flush a refusal), then the oldest.
// Thread-safe: every worker counts against the same table.
class FailureLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  FailureLimiter(uint32_t max_failures, std::chrono::seconds window, size_t max_addresses);

  // RetryAfter is how long `client` is still refused, or zero when it may try.
  std::chrono::seconds RetryAfter(const IpAddress& client, Clock::time_point now) const;
  void RecordFailure(const IpAddress& client, Clock::time_point now);
  // Charge is RetryAfter and, when that is zero, RecordFailure, in one step: however many
  // workers check at once, no more than max_failures checks of one address are let through in
  // a window. Returns how long `client` is still refused (nothing charged then), or zero.
  std::chrono::seconds Charge(const IpAddress& client, Clock::time_point now);
  // Forgive takes back one failure of `client` (a check that started as one and succeeded).
  void Forgive(const IpAddress& client);
  size_t size() const {
    std::lock_guard lock(mutex_);
    return windows_.size();
  }

 private:
  struct Window {
    Clock::time_point start;
    uint32_t failures = 0;
  };

  std::chrono::seconds RetryAfterLocked(const std::string& key, Clock::time_point now) const;
  void RecordFailureLocked(const std::string& key, Clock::time_point now);
  void MakeRoom(Clock::time_point now);

  uint32_t max_failures_;
  std::chrono::seconds window_;
  size_t max_addresses_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;  // by the address's bytes
};

}  // namespace deputy
