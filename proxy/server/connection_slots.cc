#include "server/connection_slots.h"

#include <limits>

namespace deputy {

ConnectionSlots::ConnectionSlots(size_t listeners)
    : max_total_(std::numeric_limits<uint32_t>::max()),
      per_listener_(std::make_unique<std::atomic<uint32_t>[]>(listeners)) {}

bool ConnectionSlots::TakeOne(std::atomic<uint32_t>& counter, uint32_t limit) {
  uint32_t current = counter.load(std::memory_order_relaxed);
  do {
    if (current >= limit) return false;
  } while (!counter.compare_exchange_weak(current, current + 1, std::memory_order_relaxed));
  return true;
}

ConnectionSlots::Refusal ConnectionSlots::Take(size_t listener, uint32_t listener_limit) {
  if (!TakeOne(total_, max_total_)) return Refusal::kProcess;
  if (!TakeOne(per_listener_[listener], listener_limit)) {
    total_.fetch_sub(1, std::memory_order_relaxed);
    return Refusal::kListener;
  }
  return Refusal::kNone;
}

void ConnectionSlots::Release(size_t listener) {
  per_listener_[listener].fetch_sub(1, std::memory_order_relaxed);
  total_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace deputy
