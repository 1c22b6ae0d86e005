#pragma once

#include <prometheus/gauge.h>

#include <array>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/session_phase.h"

namespace deputy {

// PhaseTracker follows one session through its phases: it keeps the per-phase gauge of
// sessions in sync (one up on entry, one down on leaving) and adds up the time spent in each.
class PhaseTracker {
 public:
  using Gauges = std::array<prometheus::Gauge*, kSessionPhases>;
  using Clock = std::chrono::steady_clock;

  explicit PhaseTracker(const Gauges& gauges) : gauges_(gauges) {}
  ~PhaseTracker() { End(); }
  PhaseTracker(const PhaseTracker&) = delete;
  PhaseTracker& operator=(const PhaseTracker&) = delete;

  // Enter leaves the current phase, if any, and starts `phase`.
  void Enter(SessionPhase phase);
  // End leaves the current phase; nothing after it is counted. Idempotent.
  void End();

  std::optional<SessionPhase> current() const { return current_; }
  // Milliseconds spent in each phase entered, by name: {"lookup": 0.21, "connect": 3.4, ...}.
  nlohmann::json Millis() const;

 private:
  const Gauges& gauges_;
  std::optional<SessionPhase> current_;
  Clock::time_point entered_;
  std::array<std::optional<Clock::duration>, kSessionPhases> spent_{};
};

}  // namespace deputy
