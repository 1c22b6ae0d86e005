// The connection limits hold for the process: a listener's own limit and the process-wide one,
// however many threads take and give back slots at once.
#include "server/connection_slots.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace deputy {
namespace {

using Refusal = ConnectionSlots::Refusal;

TEST(ConnectionSlotsTest, AListenerLimitRefusesOnThatListenerOnly) {
  ConnectionSlots slots(2);
  slots.SetProcessLimit(100);
  EXPECT_EQ(slots.Take(0, 2), Refusal::kNone);
  EXPECT_EQ(slots.Take(0, 2), Refusal::kNone);
  EXPECT_EQ(slots.Take(0, 2), Refusal::kListener);
  EXPECT_EQ(slots.Take(1, 2), Refusal::kNone);
  EXPECT_EQ(slots.on(0), 2u);
  EXPECT_EQ(slots.on(1), 1u);
  EXPECT_EQ(slots.total(), 3u) << "a refused connection holds no slot";
  slots.Release(0);
  EXPECT_EQ(slots.Take(0, 2), Refusal::kNone);
}

TEST(ConnectionSlotsTest, TheProcessLimitCoversEveryListener) {
  ConnectionSlots slots(2);
  slots.SetProcessLimit(3);
  EXPECT_EQ(slots.Take(0, 10), Refusal::kNone);
  EXPECT_EQ(slots.Take(1, 10), Refusal::kNone);
  EXPECT_EQ(slots.Take(1, 10), Refusal::kNone);
  EXPECT_EQ(slots.Take(0, 10), Refusal::kProcess);
  EXPECT_EQ(slots.on(0), 1u) << "a refusal by the process limit takes no listener slot";
  slots.Release(1);
  EXPECT_EQ(slots.Take(0, 10), Refusal::kNone);
  EXPECT_EQ(slots.total(), 3u);
}

TEST(ConnectionSlotsTest, ThreadsRacingNeverTakeMoreThanTheLimits) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 20000;
  constexpr uint32_t kListenerLimit = 5;
  ConnectionSlots slots(1);
  slots.SetProcessLimit(7);
  std::atomic<uint32_t> held{0};
  std::atomic<uint32_t> most_held{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        if (slots.Take(0, kListenerLimit) != Refusal::kNone) continue;
        const uint32_t now = held.fetch_add(1) + 1;
        uint32_t most = most_held.load();
        while (now > most && !most_held.compare_exchange_weak(most, now)) {
        }
        held.fetch_sub(1);
        slots.Release(0);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_LE(most_held.load(), kListenerLimit);
  EXPECT_EQ(slots.total(), 0u);
  EXPECT_EQ(slots.on(0), 0u);
}

}  // namespace
}  // namespace deputy
