#include "server/connection_slots.h"

namespace deputy {

ConnectionSlots::Count& ConnectionSlots::ForListener(const std::string& name) {
  std::lock_guard lock(mutex_);
  std::unique_ptr<Count>& count = per_listener_[name];
  if (!count) count = std::make_unique<Count>(0);
  return *count;
}

bool ConnectionSlots::TakeOne(Count& counter, uint32_t limit) {
  uint32_t current = counter.load(std::memory_order_relaxed);
  do {
    if (current >= limit) return false;
  } while (!counter.compare_exchange_weak(current, current + 1, std::memory_order_relaxed));
  return true;
}

ConnectionSlots::Refusal ConnectionSlots::Take(Count& listener, uint32_t listener_limit) {
  if (!TakeOne(total_, max_total_)) return Refusal::kProcess;
  if (!TakeOne(listener, listener_limit)) {
    total_.fetch_sub(1, std::memory_order_relaxed);
    return Refusal::kListener;
  }
  return Refusal::kNone;
}

void ConnectionSlots::Release(Count& listener) {
  listener.fetch_sub(1, std::memory_order_relaxed);
  total_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace deputy
