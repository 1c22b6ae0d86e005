#include "session/phase_tracker.h"

#include <cmath>
#include <string>

namespace deputy {

void PhaseTracker::Enter(SessionPhase phase) {
  End();
  current_ = phase;
  entered_ = Clock::now();
  gauges_[static_cast<size_t>(phase)]->Increment();
}

void PhaseTracker::End() {
  if (!current_) return;
  const size_t index = static_cast<size_t>(*current_);
  gauges_[index]->Decrement();
  spent_[index] = spent_[index].value_or(Clock::duration::zero()) + (Clock::now() - entered_);
  current_.reset();
}

nlohmann::json PhaseTracker::Millis() const {
  nlohmann::json out = nlohmann::json::object();
  for (size_t i = 0; i < kSessionPhases; ++i) {
    if (!spent_[i]) continue;
    const double ms = std::chrono::duration<double, std::milli>(*spent_[i]).count();
    // Microsecond precision is plenty, and keeps the log line short.
    out[std::string(SessionPhaseName(static_cast<SessionPhase>(i)))] = std::round(ms * 1000) / 1000;
  }
  return out;
}

}  // namespace deputy
