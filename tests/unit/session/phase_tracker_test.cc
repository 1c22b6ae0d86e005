// PhaseTracker keeps the per-phase gauges equal to the sessions in each phase, whatever path a
// session takes and however it ends, and reports time only for the phases it entered.
#include "session/phase_tracker.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace deputy {
namespace {

class PhaseTrackerTest : public ::testing::Test {
 protected:
  PhaseTrackerTest() {
    auto& family = prometheus::BuildGauge().Name("phases").Register(registry_);
    for (size_t i = 0; i < kSessionPhases; ++i) {
      gauges_[i] = &family.Add({{"phase", std::string(SessionPhaseName(SessionPhase(i)))}});
    }
  }
  double In(SessionPhase phase) const { return gauges_[static_cast<size_t>(phase)]->Value(); }

  prometheus::Registry registry_;
  PhaseTracker::Gauges gauges_{};
};

TEST_F(PhaseTrackerTest, EachSessionIsInOnePhaseAtATime) {
  PhaseTracker first(gauges_);
  PhaseTracker second(gauges_);
  first.Enter(SessionPhase::kRequest);
  second.Enter(SessionPhase::kRequest);
  EXPECT_EQ(In(SessionPhase::kRequest), 2);
  first.Enter(SessionPhase::kLookup);
  EXPECT_EQ(In(SessionPhase::kRequest), 1);
  EXPECT_EQ(In(SessionPhase::kLookup), 1);
  second.Enter(SessionPhase::kClosing);
  first.End();
  first.End();  // idempotent
  EXPECT_EQ(In(SessionPhase::kRequest), 0);
  EXPECT_EQ(In(SessionPhase::kLookup), 0);
  EXPECT_EQ(In(SessionPhase::kClosing), 1);
  EXPECT_EQ(first.current(), std::nullopt);
  EXPECT_EQ(second.current(), SessionPhase::kClosing);
}

TEST_F(PhaseTrackerTest, ASessionDestroyedMidPhaseLeavesIt) {
  {
    PhaseTracker tracker(gauges_);
    tracker.Enter(SessionPhase::kTunnel);
    EXPECT_EQ(In(SessionPhase::kTunnel), 1);
  }
  EXPECT_EQ(In(SessionPhase::kTunnel), 0);
}

TEST_F(PhaseTrackerTest, TimeIsReportedForEnteredPhasesOnly) {
  PhaseTracker tracker(gauges_);
  EXPECT_TRUE(tracker.Millis().empty());
  tracker.Enter(SessionPhase::kRequest);
  tracker.Enter(SessionPhase::kConnect);
  tracker.Enter(SessionPhase::kRequest);  // re-entered: the times add up under one key
  tracker.End();
  nlohmann::json ms = tracker.Millis();
  EXPECT_EQ(ms.size(), 2u) << ms;
  EXPECT_GE(ms["request"].get<double>(), 0);
  EXPECT_GE(ms["connect"].get<double>(), 0);
  EXPECT_FALSE(ms.contains("lookup"));
}

}  // namespace
}  // namespace deputy
