// The connection limits hold for the process: a listener's own limit and the process-wide one,
// however many threads take and give back slots at once.
#include "server/connection_slots.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <latch>
#include <thread>
#include <vector>

namespace deputy {
namespace {

using Refusal = ConnectionSlots::Refusal;

TEST(ConnectionSlotsTest, AListenerLimitRefusesOnThatListenerOnly) {
  ConnectionSlots slots;
  ConnectionSlots::Count* on[2] = {&slots.ForListener("a"), &slots.ForListener("b")};
  slots.SetProcessLimit(100);
  EXPECT_EQ(slots.Take(*on[0], 2), Refusal::kNone);
  EXPECT_EQ(slots.Take(*on[0], 2), Refusal::kNone);
  EXPECT_EQ(slots.Take(*on[0], 2), Refusal::kListener);
  EXPECT_EQ(slots.Take(*on[1], 2), Refusal::kNone);
  EXPECT_EQ(slots.on(*on[0]), 2u);
  EXPECT_EQ(slots.on(*on[1]), 1u);
  EXPECT_EQ(slots.total(), 3u) << "a refused connection holds no slot";
  slots.Release(*on[0]);
  EXPECT_EQ(slots.Take(*on[0], 2), Refusal::kNone);
}

TEST(ConnectionSlotsTest, TheProcessLimitCoversEveryListener) {
  ConnectionSlots slots;
  ConnectionSlots::Count* on[2] = {&slots.ForListener("a"), &slots.ForListener("b")};
  slots.SetProcessLimit(3);
  EXPECT_EQ(slots.Take(*on[0], 10), Refusal::kNone);
  EXPECT_EQ(slots.Take(*on[1], 10), Refusal::kNone);
  EXPECT_EQ(slots.Take(*on[1], 10), Refusal::kNone);
  EXPECT_EQ(slots.Take(*on[0], 10), Refusal::kProcess);
  EXPECT_EQ(slots.on(*on[0]), 1u) << "a refusal by the process limit takes no listener slot";
  slots.Release(*on[1]);
  EXPECT_EQ(slots.Take(*on[0], 10), Refusal::kNone);
  EXPECT_EQ(slots.total(), 3u);
}

TEST(ConnectionSlotsTest, AListenerKeepsItsCountAcrossAReloadByName) {
  ConnectionSlots slots;
  ConnectionSlots::Count& before = slots.ForListener("connect");
  EXPECT_EQ(slots.Take(before, 1), Refusal::kNone);
  // A reload that keeps the listener asks for its count again, by name: the open connection
  // still counts against the limit.
  ConnectionSlots::Count& after = slots.ForListener("connect");
  EXPECT_EQ(&after, &before);
  EXPECT_EQ(slots.Take(after, 1), Refusal::kListener);
  EXPECT_EQ(slots.Take(slots.ForListener("added"), 1), Refusal::kNone);
  slots.Release(before);
  EXPECT_EQ(slots.Take(after, 1), Refusal::kNone);
}

TEST(ConnectionSlotsTest, ThreadsRacingNeverTakeMoreThanTheLimits) {
  // More threads, each holding several slots at once, than either limit allows, so both are
  // hit again and again.
  constexpr int kThreads = 8;
  constexpr int kRounds = 5000;
  constexpr int kMaxRounds = 50000000;
  constexpr int kSlotsPerRound = 3;
  constexpr uint32_t kListenerLimit = 3;
  constexpr uint32_t kProcessLimit = 5;
  ConnectionSlots slots;
  ConnectionSlots::Count* on[2] = {&slots.ForListener("a"), &slots.ForListener("b")};
  slots.SetProcessLimit(kProcessLimit);
  std::atomic<uint32_t> held_total{0};
  std::array<std::atomic<uint32_t>, 2> held_on{};
  std::atomic<uint32_t> most_total{0};
  std::array<std::atomic<uint32_t>, 2> most_on{};
  std::atomic<uint64_t> process_refusals{0};
  std::atomic<uint64_t> listener_refusals{0};
  auto raise = [](std::atomic<uint32_t>& most, uint32_t now) {
    uint32_t seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
  };
  // Every thread starts at once, and goes on past kRounds until some limit was hit: on a busy
  // machine one thread may otherwise finish its rounds before the next one runs.
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kRounds || (process_refusals + listener_refusals == 0 && i < kMaxRounds);
           ++i) {
        std::vector<size_t> taken;
        for (int k = 0; k < kSlotsPerRound; ++k) {
          const size_t listener = static_cast<size_t>((t + k) % 2);
          switch (slots.Take(*on[listener], kListenerLimit)) {
            case Refusal::kNone:
              raise(most_on[listener], held_on[listener].fetch_add(1) + 1);
              raise(most_total, held_total.fetch_add(1) + 1);
              taken.push_back(listener);
              break;
            case Refusal::kProcess:
              ++process_refusals;
              break;
            case Refusal::kListener:
              ++listener_refusals;
              break;
          }
        }
        for (size_t listener : taken) {
          held_total.fetch_sub(1);
          held_on[listener].fetch_sub(1);
          slots.Release(*on[listener]);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_LE(most_total.load(), kProcessLimit);
  EXPECT_LE(most_on[0].load(), kListenerLimit);
  EXPECT_LE(most_on[1].load(), kListenerLimit);
  EXPECT_GT(process_refusals.load() + listener_refusals.load(), 0u) << "the limits were never hit";
  EXPECT_EQ(slots.total(), 0u);
  EXPECT_EQ(slots.on(*on[0]), 0u);
  EXPECT_EQ(slots.on(*on[1]), 0u);
}

}  // namespace
}  // namespace deputy
