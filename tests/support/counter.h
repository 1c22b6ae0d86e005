#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "support/wait.h"

namespace deputy::test {

// Counter is a thread-safe count that tests can wait on instead of sleeping.
class Counter {
 public:
  void Add(uint64_t n = 1) {
    std::lock_guard lock(mu_);
    value_ += n;
    changed_.notify_all();
  }
  uint64_t value() const {
    std::lock_guard lock(mu_);
    return value_;
  }
  // WaitFor returns true once the count reaches `at_least`, false if the timeout passes first.
  bool WaitFor(uint64_t at_least, Millis timeout = kDefaultTimeout) const {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return value_ >= at_least; });
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  uint64_t value_ = 0;
};

}  // namespace deputy::test
