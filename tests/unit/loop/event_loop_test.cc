// Other threads hand work to a loop through Post: it runs on the loop's thread, in the order
// posted, and what is posted after Close is dropped unrun. Hold keeps Run serving while such
// work is outstanding.
#include "loop/event_loop.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

namespace deputy {
namespace {

TEST(EventLoopTest, PostedTasksRunOnTheLoopThreadInOrder) {
  constexpr int kPosters = 4;
  constexpr int kTasksEach = 1000;
  EventLoop loop;
  std::vector<std::vector<int>> seen(kPosters);
  std::vector<std::thread::id> ran_on;
  int remaining = kPosters * kTasksEach;
  loop.Hold();  // until the last task has run
  std::vector<std::thread> posters;
  for (int p = 0; p < kPosters; ++p) {
    posters.emplace_back([&, p] {
      for (int i = 0; i < kTasksEach; ++i) {
        loop.Post([&, p, i] {
          seen[p].push_back(i);
          ran_on.push_back(std::this_thread::get_id());
          if (--remaining == 0) loop.Unhold();
        });
      }
    });
  }
  loop.Run();
  for (std::thread& poster : posters) poster.join();
  EXPECT_EQ(remaining, 0);
  for (int p = 0; p < kPosters; ++p) {
    ASSERT_EQ(seen[p].size(), static_cast<size_t>(kTasksEach));
    for (int i = 0; i < kTasksEach; ++i) EXPECT_EQ(seen[p][i], i);
  }
  for (std::thread::id id : ran_on) EXPECT_EQ(id, std::this_thread::get_id());
}

TEST(EventLoopTest, APostDoesNotKeepTheLoopRunningButAHoldDoes) {
  EventLoop loop;
  bool ran = false;
  loop.Post([&] { ran = true; });
  loop.Run();  // nothing else to do: returns at once, the task still queued
  EXPECT_FALSE(ran);
  loop.Hold();
  loop.Post([&] { loop.Unhold(); });
  loop.Run();
  EXPECT_TRUE(ran);
}

TEST(EventLoopTest, ATaskPostedAfterCloseIsDestroyedUnrun) {
  EventLoop loop;
  loop.Close();
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  bool ran = false;
  loop.Post([&ran, token = std::move(token)] { ran = true; });
  EXPECT_FALSE(ran);
  EXPECT_TRUE(watch.expired()) << "the task still holds what it captured";
}

TEST(EventLoopTest, TasksPendingAtCloseAreDestroyedUnrun) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  bool ran = false;
  {
    EventLoop loop;
    loop.Post([&ran, token = std::move(token)] { ran = true; });
  }
  EXPECT_FALSE(ran);
  EXPECT_TRUE(watch.expired());
}

}  // namespace
}  // namespace deputy
