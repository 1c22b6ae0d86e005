#include "base/descriptor_budget.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

namespace deputy {
namespace {

TEST(DescriptorBudget, ConnectionsGetThreeDescriptorsEachAfterTheHeadroom) {
  EXPECT_EQ(ConnectionsWithinLimit(1024, 10), (1024 - 10 - kDescriptorHeadroom) / 3);
  EXPECT_EQ(ConnectionsWithinLimit(1'048'576, 12), (1'048'576 - 12 - kDescriptorHeadroom) / 3);
}

TEST(DescriptorBudget, ATinyLimitStillServesOneConnection) {
  EXPECT_EQ(ConnectionsWithinLimit(8, 10), 1u);
  EXPECT_EQ(ConnectionsWithinLimit(10 + kDescriptorHeadroom + 3, 10), 1u);
  EXPECT_EQ(ConnectionsWithinLimit(10 + kDescriptorHeadroom + 6, 10), 2u);
}

TEST(DescriptorBudget, OpenDescriptorCountSeesANewDescriptor) {
  const uint64_t before = OpenDescriptorCount();
  ASSERT_GT(before, 0u);
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(OpenDescriptorCount(), before + 1);
  close(fd);
  EXPECT_EQ(OpenDescriptorCount(), before);
}

TEST(DescriptorBudget, RaiseLiftsTheSoftLimitToTheHardOne) {
  rlimit original{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &original), 0);
  if (original.rlim_max < 512) GTEST_SKIP() << "hard limit " << original.rlim_max;
  rlimit lowered = original;
  lowered.rlim_cur = 256;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
  DescriptorLimit limit = RaiseDescriptorLimit();
  EXPECT_TRUE(limit.error.empty()) << limit.error;
  EXPECT_EQ(limit.soft_before, 256u);
  EXPECT_EQ(limit.soft, original.rlim_max);
  EXPECT_EQ(limit.hard, original.rlim_max);
  rlimit now{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, original.rlim_max);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &original), 0);
}

}  // namespace
}  // namespace deputy
