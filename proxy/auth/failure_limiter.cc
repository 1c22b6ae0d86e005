#include "auth/failure_limiter.h"

#include <algorithm>

namespace deputy {

namespace {

std::string KeyOf(const IpAddress& client) {
  const IpAddress address = Unmapped(client);
  return std::string(reinterpret_cast<const char*>(address.bytes.data()), address.v6 ? 8 : 4);
}

}  // namespace

FailureLimiter::FailureLimiter(uint32_t max_failures, std::chrono::seconds window,
                               size_t max_addresses)
    : max_failures_(std::max<uint32_t>(max_failures, 1)),
      window_(window),
      max_addresses_(std::max<size_t>(max_addresses, 1)) {}

std::chrono::seconds FailureLimiter::RetryAfter(const IpAddress& client,
                                                Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  return RetryAfterLocked(KeyOf(client), now);
}

void FailureLimiter::RecordFailure(const IpAddress& client, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  RecordFailureLocked(KeyOf(client), now);
}

std::chrono::seconds FailureLimiter::Charge(const IpAddress& client, Clock::time_point now) {
  const std::string key = KeyOf(client);
  std::lock_guard lock(mutex_);
  if (const std::chrono::seconds wait = RetryAfterLocked(key, now); wait.count() > 0) return wait;
  RecordFailureLocked(key, now);
  return {};
}

std::chrono::seconds FailureLimiter::RetryAfterLocked(const std::string& key,
                                                      Clock::time_point now) const {
  const auto it = windows_.find(key);
  if (it == windows_.end() || it->second.failures < max_failures_) return {};
  const Clock::time_point end = it->second.start + window_;
  if (now >= end) return {};
  // Rounded up, so a client that waits that long is let in.
  return std::chrono::ceil<std::chrono::seconds>(end - now);
}

void FailureLimiter::RecordFailureLocked(const std::string& key, Clock::time_point now) {
  auto it = windows_.find(key);
  if (it != windows_.end() && now >= it->second.start + window_) {
    it->second = Window{now, 0};
  }
  if (it == windows_.end()) {
    if (windows_.size() >= max_addresses_) MakeRoom(now);
    it = windows_.emplace(key, Window{now, 0}).first;
  }
  ++it->second.failures;
}

void FailureLimiter::Forgive(const IpAddress& client) {
  std::lock_guard lock(mutex_);
  const auto it = windows_.find(KeyOf(client));
  if (it != windows_.end() && it->second.failures > 0) --it->second.failures;
}

void FailureLimiter::MakeRoom(Clock::time_point now) {
  std::erase_if(windows_, [&](const auto& entry) { return now >= entry.second.start + window_; });
  if (windows_.size() < max_addresses_) return;
  // Refused addresses go last, ordered by start among themselves.
  const auto oldest =
      std::min_element(windows_.begin(), windows_.end(), [&](const auto& a, const auto& b) {
        const bool a_refused = a.second.failures >= max_failures_;
        const bool b_refused = b.second.failures >= max_failures_;
        if (a_refused != b_refused) return b_refused;
        return a.second.start < b.second.start;
      });
  windows_.erase(oldest);
}

}  // namespace deputy
