#pragma once

#include <chrono>
#include <cstddef>

namespace deputy::test {

using Millis = std::chrono::milliseconds;

// Fixtures and client helpers never block without a bound; this is the bound they use when the
// caller gives none.
inline constexpr Millis kDefaultTimeout{10000};

// Deadline is a point in time on the monotonic clock.
class Deadline {
 public:
  explicit Deadline(Millis timeout) : at_(std::chrono::steady_clock::now() + timeout) {}

  bool expired() const { return std::chrono::steady_clock::now() >= at_; }
  // PollTimeoutMs is the time left, rounded up to whole milliseconds, as poll(2) wants it.
  int PollTimeoutMs() const;
  // Remaining is the time left (zero once expired), to hand to a nested call.
  Millis Remaining() const;
  std::chrono::steady_clock::time_point at() const { return at_; }

 private:
  std::chrono::steady_clock::time_point at_;
};

enum class WaitResult { kReady, kTimeout, kStopped, kError };

// WaitFd waits until `fd` reports one of `events` (or an error/hang-up, which the next read or
// write will explain), the deadline passes, or `stop_fd` (when >= 0) becomes readable.
WaitResult WaitFd(int fd, short events, const Deadline& deadline, int stop_fd = -1);

// StopEvent is a self-pipe: once fired, its fd stays readable forever, so every thread polling
// it wakes up, however many there are and whenever they start waiting.
class StopEvent {
 public:
  StopEvent();
  ~StopEvent();
  StopEvent(const StopEvent&) = delete;
  StopEvent& operator=(const StopEvent&) = delete;

  void Fire();
  bool fired() const;
  int fd() const { return read_fd_; }
  // WaitFor returns true if the event fired within `timeout`.
  bool WaitFor(Millis timeout) const;

 private:
  int read_fd_ = -1;
  int write_fd_ = -1;
};

// ReadExactly reads exactly `n` bytes through `conn.ReadSome(buf, n, timeout)` (plain TCP or
// TLS) within `timeout` in all; false on end of stream, error or timeout.
template <typename Connection>
bool ReadExactly(Connection& conn, void* buf, size_t n, Millis timeout) {
  Deadline deadline(timeout);
  auto* out = static_cast<char*>(buf);
  while (n > 0) {
    auto got = conn.ReadSome(out, n, deadline.Remaining());
    if (got <= 0) return false;
    out += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

}  // namespace deputy::test
