// An address that keeps failing is refused until its window ends; other addresses are not,
// the table stays bounded however many addresses fail, and threads charging one address at
// once (one per worker) let no more checks through than its budget.
#include "auth/failure_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace deputy {
namespace {

using std::chrono::seconds;

const FailureLimiter::Clock::time_point kStart{};

TEST(FailureLimiter, RefusesAfterMaxFailuresUntilTheWindowEnds) {
  FailureLimiter limiter(3, seconds(60), 100);
  const IpAddress client = IpAddress::V4(0x7f000001);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.RetryAfter(client, kStart + seconds(i)), seconds(0)) << i;
    limiter.RecordFailure(client, kStart + seconds(i));
  }
  EXPECT_EQ(limiter.RetryAfter(client, kStart + seconds(3)), seconds(57));
  EXPECT_EQ(limiter.RetryAfter(IpAddress::V4(0x7f000002), kStart + seconds(3)), seconds(0));
  EXPECT_EQ(limiter.RetryAfter(client, kStart + seconds(60)), seconds(0));
  // A failure after the window starts a new one.
  limiter.RecordFailure(client, kStart + seconds(61));
  EXPECT_EQ(limiter.RetryAfter(client, kStart + seconds(61)), seconds(0));
}

TEST(FailureLimiter, AnIpv4MappedAddressCountsAsItsIpv4Address) {
  FailureLimiter limiter(1, seconds(10), 100);
  IpAddress mapped;
  mapped.v6 = true;
  mapped.bytes = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
  limiter.RecordFailure(mapped, kStart);
  EXPECT_EQ(limiter.RetryAfter(IpAddress::V4(0x7f000001), kStart), seconds(10));
}

IpAddress V6(std::initializer_list<uint8_t> bytes) {
  IpAddress address;
  address.v6 = true;
  std::copy(bytes.begin(), bytes.end(), address.bytes.begin());
  return address;
}

TEST(FailureLimiter, AnIpv6ClientIsCountedByItsSlash64) {
  FailureLimiter limiter(2, seconds(10), 100);
  limiter.RecordFailure(V6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}), kStart);
  limiter.RecordFailure(V6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 9, 9, 9, 9, 9, 9, 9, 9}), kStart);
  EXPECT_GT(limiter.RetryAfter(V6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0xff}), kStart), seconds(0));
  EXPECT_EQ(limiter.RetryAfter(V6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 2}), kStart), seconds(0));
}

TEST(FailureLimiter, ACheckForgivenIsNoFailure) {
  FailureLimiter limiter(2, seconds(10), 100);
  const IpAddress client = IpAddress::V4(0x7f000001);
  limiter.RecordFailure(client, kStart);
  limiter.RecordFailure(client, kStart);
  limiter.Forgive(client);
  EXPECT_EQ(limiter.RetryAfter(client, kStart), seconds(0));
  limiter.RecordFailure(client, kStart);
  EXPECT_GT(limiter.RetryAfter(client, kStart), seconds(0));
}

TEST(FailureLimiter, AFullTableKeepsRefusedAddressesOverOlderOnes) {
  FailureLimiter limiter(2, seconds(100), 2);
  const IpAddress refused = IpAddress::V4(1);
  limiter.RecordFailure(refused, kStart);
  limiter.RecordFailure(refused, kStart);
  limiter.RecordFailure(IpAddress::V4(2), kStart + seconds(1));
  // Rotating through new addresses must not flush the refusal.
  for (uint32_t i = 10; i < 20; ++i) limiter.RecordFailure(IpAddress::V4(i), kStart + seconds(i));
  EXPECT_GT(limiter.RetryAfter(refused, kStart + seconds(20)), seconds(0));
  EXPECT_EQ(limiter.size(), 2u);
}

TEST(FailureLimiter, StaysBoundedDroppingExpiredThenOldestWindows) {
  FailureLimiter limiter(1, seconds(10), 3);
  for (uint32_t i = 0; i < 3; ++i) limiter.RecordFailure(IpAddress::V4(i + 1), kStart + seconds(i));
  EXPECT_EQ(limiter.size(), 3u);
  // Nothing expired yet: the oldest (address 1) goes.
  limiter.RecordFailure(IpAddress::V4(100), kStart + seconds(5));
  EXPECT_EQ(limiter.size(), 3u);
  EXPECT_EQ(limiter.RetryAfter(IpAddress::V4(1), kStart + seconds(5)), seconds(0));
  EXPECT_GT(limiter.RetryAfter(IpAddress::V4(2), kStart + seconds(5)), seconds(0));
  // Later, every window but the newest has expired and goes at once.
  limiter.RecordFailure(IpAddress::V4(200), kStart + seconds(13));
  EXPECT_EQ(limiter.size(), 2u);
}

TEST(FailureLimiter, ThreadsChargingOneAddressAtOnceGetNoMoreThanItsBudget) {
  constexpr uint32_t kBudget = 5;
  constexpr int kThreads = 8;
  constexpr int kTries = 1000;
  for (int round = 0; round < 20; ++round) {
    FailureLimiter limiter(kBudget, seconds(60), 100);
    const IpAddress client = IpAddress::V4(0x7f000001);
    std::atomic<uint32_t> let_through{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        while (!go.load()) std::this_thread::yield();
        for (int i = 0; i < kTries; ++i) {
          if (limiter.Charge(client, kStart).count() == 0) ++let_through;
        }
      });
    }
    go = true;
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(let_through.load(), kBudget) << "round " << round;
    EXPECT_EQ(limiter.RetryAfter(client, kStart), seconds(60));
  }
}

TEST(FailureLimiter, AChargeForgivenIsGivenBack) {
  FailureLimiter limiter(2, seconds(60), 100);
  const IpAddress client = IpAddress::V4(0x7f000001);
  EXPECT_EQ(limiter.Charge(client, kStart), seconds(0));
  EXPECT_EQ(limiter.Charge(client, kStart), seconds(0));
  EXPECT_EQ(limiter.Charge(client, kStart), seconds(60));  // refused, not charged
  limiter.Forgive(client);
  EXPECT_EQ(limiter.Charge(client, kStart), seconds(0));
  EXPECT_EQ(limiter.RetryAfter(client, kStart), seconds(60));
}

}  // namespace
}  // namespace deputy
