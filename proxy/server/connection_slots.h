#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace deputy {

// ConnectionSlots counts the client connections open at once, in all and per listener, for
// every worker together, so limits.max_connections and a listener's max_connections hold for
// the process however connections spread over workers. Lock-free; any thread may call it.
class ConnectionSlots {
 public:
  enum class Refusal { kNone, kProcess, kListener };

  explicit ConnectionSlots(size_t listeners);

  // SetProcessLimit is called before any worker runs.
  void SetProcessLimit(uint32_t max_total) { max_total_ = max_total; }
  uint32_t process_limit() const { return max_total_; }

  // Take counts one connection on `listener` (by its index in the configuration) unless a
  // limit is reached; Release gives it back.
  Refusal Take(size_t listener, uint32_t listener_limit);
  void Release(size_t listener);

  uint32_t total() const { return total_.load(std::memory_order_relaxed); }
  uint32_t on(size_t listener) const {
    return per_listener_[listener].load(std::memory_order_relaxed);
  }

 private:
  // Takes one from `counter` unless it is at `limit`.
  static bool TakeOne(std::atomic<uint32_t>& counter, uint32_t limit);

  uint32_t max_total_;
  std::atomic<uint32_t> total_{0};
  std::unique_ptr<std::atomic<uint32_t>[]> per_listener_;
};

}  // namespace deputy
