#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "net/ip_network.h"

namespace deputy {

// FailureLimiter counts failed proxy authentications per client address: once an address has
// failed `max_failures` times within one window (which starts at its first failure), it is
// refused without a password check until the window ends. That bounds both password guessing
// and the hashing work one client can make deputy do. The table holds at most `max_addresses`;
// when it is full, expired windows go first, then the oldest.
class FailureLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  FailureLimiter(uint32_t max_failures, std::chrono::seconds window, size_t max_addresses);

  // RetryAfter is how long `client` is still refused, or zero when it may try.
  std::chrono::seconds RetryAfter(const IpAddress& client, Clock::time_point now) const;
  void RecordFailure(const IpAddress& client, Clock::time_point now);
  size_t size() const { return windows_.size(); }

 private:
  struct Window {
    Clock::time_point start;
    uint32_t failures = 0;
  };

  void MakeRoom(Clock::time_point now);

  uint32_t max_failures_;
  std::chrono::seconds window_;
  size_t max_addresses_;
  std::unordered_map<std::string, Window> windows_;  // by the address's bytes
};

}  // namespace deputy
