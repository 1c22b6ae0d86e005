#include "log/warning_limiter.h"

#include <gtest/gtest.h>

namespace deputy {
namespace {

using Clock = WarningLimiter::Clock;
using std::chrono::milliseconds;

TEST(WarningLimiterTest, LetsABurstThroughThenCountsTheRest) {
  WarningLimiter limiter(3, milliseconds(1000));
  const Clock::time_point t0 = Clock::now();
  for (int i = 0; i < 3; ++i) {
    WarningLimiter::Admission admission = limiter.Admit(t0 + milliseconds(i));
    EXPECT_TRUE(admission.log);
    EXPECT_EQ(admission.last, i == 2);
    EXPECT_EQ(admission.suppressed, 0u);
  }
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.Admit(t0 + milliseconds(10 + i)).log);
  // The next window reports what the last one suppressed, once.
  WarningLimiter::Admission next = limiter.Admit(t0 + milliseconds(1000));
  EXPECT_TRUE(next.log);
  EXPECT_FALSE(next.last);
  EXPECT_EQ(next.suppressed, 5u);
  EXPECT_EQ(limiter.Admit(t0 + milliseconds(1001)).suppressed, 0u);
}

TEST(WarningLimiterTest, WindowStartsAtTheFirstWarningAfterTheLastOneEnded) {
  WarningLimiter limiter(1, milliseconds(1000));
  const Clock::time_point t0 = Clock::now();
  EXPECT_TRUE(limiter.Admit(t0).log);
  EXPECT_FALSE(limiter.Admit(t0 + milliseconds(999)).log);
  EXPECT_TRUE(limiter.Admit(t0 + milliseconds(5000)).log);
  // The window began at 5000, not at 1000 or 2000 etc.
  EXPECT_FALSE(limiter.Admit(t0 + milliseconds(5999)).log);
  EXPECT_TRUE(limiter.Admit(t0 + milliseconds(6000)).log);
}

TEST(WarningLimiterTest, TakeSuppressedReportsEachCountOnce) {
  WarningLimiter limiter(1, milliseconds(1000));
  const Clock::time_point t0 = Clock::now();
  limiter.Admit(t0);
  limiter.Admit(t0);
  limiter.Admit(t0);
  EXPECT_EQ(limiter.TakeSuppressed(), 2u);
  EXPECT_EQ(limiter.TakeSuppressed(), 0u);
  EXPECT_EQ(limiter.Admit(t0 + milliseconds(1000)).suppressed, 0u);
}

}  // namespace
}  // namespace deputy
