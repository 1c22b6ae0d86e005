#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace deputy {

// ConnectionSlots counts the client connections open at once, in all and per listener, for
// every worker together, so limits.max_connections and a listener's max_connections hold for
// the process however connections spread over workers. A listener's count is kept by name, so
// it carries across a reload that keeps the listener. Take and Release are lock-free; any
// thread may call anything here.
class ConnectionSlots {
 public:
  enum class Refusal { kNone, kProcess, kListener };
  using Count = std::atomic<uint32_t>;

  ConnectionSlots() = default;

  // SetProcessLimit is called before any worker runs.
  void SetProcessLimit(uint32_t max_total) { max_total_ = max_total; }
  uint32_t process_limit() const { return max_total_; }

  // ForListener is the count of the listener named `name`, made at its first use; it lives as
  // long as this object.
  Count& ForListener(const std::string& name);

  // Take counts one connection on `listener` unless a limit is reached; Release gives it back.
  Refusal Take(Count& listener, uint32_t listener_limit);
  void Release(Count& listener);

  uint32_t total() const { return total_.load(std::memory_order_relaxed); }
  static uint32_t on(const Count& listener) { return listener.load(std::memory_order_relaxed); }

 private:
  // Takes one from `counter` unless it is at `limit`.
  static bool TakeOne(Count& counter, uint32_t limit);

  uint32_t max_total_ = UINT32_MAX;
  Count total_{0};
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Count>> per_listener_;  // by mutex_
};

}  // namespace deputy
