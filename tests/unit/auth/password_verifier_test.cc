// Passwords are checked on the verifier's own threads with the answer back on the loop that
// asked; the number running and waiting is bounded for all loops together, and a check given
// up never calls back.
#include "auth/password_verifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "support/password_hash.h"

namespace deputy {
namespace {

// CountsSeen records what a verifier reports from its threads, so a test can await a state.
class CountsSeen {
 public:
  PasswordVerifier::CountsCallback Callback() {
    return [this](uint32_t running, size_t waiting) {
      std::lock_guard lock(mutex_);
      seen_.emplace(running, waiting);
      max_running_ = std::max(max_running_, running);
      changed_.notify_all();
    };
  }
  // AwaitCounts says whether the verifier reported these counts, now or before.
  bool AwaitCounts(uint32_t running, size_t waiting) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] {
      return seen_.count({running, waiting}) > 0;
    });
  }
  uint32_t max_running() {
    std::lock_guard lock(mutex_);
    return max_running_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::set<std::pair<uint32_t, size_t>> seen_;
  uint32_t max_running_ = 0;
};

class PasswordVerifierTest : public ::testing::Test {
 protected:
  // Run returns once every check asked for has answered or been given up.
  void RunLoop() { loop_.Run(); }

  EventLoop loop_;
  // Slow enough (tens of ms) that checks asked for together are seen waiting for the thread.
  const std::string hash_ = test::HashPassword("secret", "$2b$", 9);
};

TEST_F(PasswordVerifierTest, TellsARightPasswordFromAWrongOne) {
  PasswordVerifier verifier(2, 8);
  std::optional<bool> right;
  std::optional<bool> wrong;
  auto a = verifier.Verify(loop_, "secret", hash_, [&](bool matches) { right = matches; });
  auto b = verifier.Verify(loop_, "secret ", hash_, [&](bool matches) { wrong = matches; });
  ASSERT_TRUE(a && b);
  // Never inside Verify: only the loop delivers answers.
  EXPECT_FALSE(right.has_value());
  RunLoop();
  EXPECT_EQ(right, true);
  EXPECT_EQ(wrong, false);
  EXPECT_EQ(verifier.running(), 0u);
}

TEST_F(PasswordVerifierTest, AHashOfAnotherMethodOrGarbageNeverMatches) {
  PasswordVerifier verifier(1, 8);
  std::vector<bool> answers;
  std::vector<std::unique_ptr<PasswordCheck>> checks;
  for (const std::string& hash : {std::string("*"), std::string("$2b$05$short"), std::string()}) {
    checks.push_back(verifier.Verify(loop_, "secret", hash, [&](bool m) { answers.push_back(m); }));
  }
  RunLoop();
  EXPECT_EQ(answers, std::vector<bool>({false, false, false}));
}

TEST_F(PasswordVerifierTest, RunsAtMostMaxRunningAndRefusesBeyondTheQueue) {
  CountsSeen counts;
  PasswordVerifier verifier(1, 2, counts.Callback());
  int answered = 0;
  std::vector<std::unique_ptr<PasswordCheck>> checks;
  for (int i = 0; i < 3; ++i) {
    checks.push_back(verifier.Verify(loop_, "secret", hash_, [&](bool) { ++answered; }));
    ASSERT_NE(checks.back(), nullptr) << i;
  }
  ASSERT_TRUE(counts.AwaitCounts(1, 2));
  EXPECT_EQ(verifier.Verify(loop_, "secret", hash_, [&](bool) { ++answered; }), nullptr);
  RunLoop();
  EXPECT_EQ(answered, 3);
  EXPECT_EQ(verifier.waiting(), 0u);
  EXPECT_EQ(counts.max_running(), 1u);
}

TEST_F(PasswordVerifierTest, ACheckGivenUpNeverCallsBackAndFreesItsPlace) {
  CountsSeen counts;
  PasswordVerifier verifier(1, 1, counts.Callback());
  bool called = false;
  auto running = verifier.Verify(loop_, "secret", hash_, [&](bool) { called = true; });
  auto waiting = verifier.Verify(loop_, "secret", hash_, [&](bool) { called = true; });
  ASSERT_TRUE(counts.AwaitCounts(1, 1));
  waiting.reset();
  EXPECT_EQ(verifier.waiting(), 0u);
  std::optional<bool> later;
  auto next = verifier.Verify(loop_, "secret", hash_, [&](bool m) { later = m; });
  ASSERT_NE(next, nullptr);
  running.reset();  // already on a thread: it finishes there, unheard
  RunLoop();
  EXPECT_FALSE(called);
  EXPECT_EQ(later, true);
}

TEST_F(PasswordVerifierTest, AVerifierGoneFirstLeavesItsChecksSilent) {
  bool called = false;
  std::unique_ptr<PasswordCheck> running;
  std::unique_ptr<PasswordCheck> waiting;
  {
    CountsSeen counts;
    PasswordVerifier verifier(1, 1, counts.Callback());
    running = verifier.Verify(loop_, "secret", hash_, [&](bool) { called = true; });
    waiting = verifier.Verify(loop_, "secret", hash_, [&](bool) { called = true; });
    ASSERT_TRUE(counts.AwaitCounts(1, 1));
  }
  // An answer the running check posted before the verifier stopped is already signalled; it
  // must find the verifier gone. The checks still hold the loop, so it runs once.
  uv_run(loop_.get(), UV_RUN_NOWAIT);
  running.reset();
  waiting.reset();
  RunLoop();
  EXPECT_FALSE(called);
}

TEST_F(PasswordVerifierTest, LoopsOnSeveralThreadsShareTheBoundsAndHearOnTheirOwnThread) {
  CountsSeen counts;
  PasswordVerifier verifier(1, 8, counts.Callback());
  constexpr int kChecksPerLoop = 3;
  auto ask_and_run = [&](EventLoop& loop, std::vector<std::thread::id>& heard_on) {
    std::vector<std::unique_ptr<PasswordCheck>> checks;
    for (int i = 0; i < kChecksPerLoop; ++i) {
      checks.push_back(verifier.Verify(loop, "secret", hash_, [&](bool matches) {
        EXPECT_TRUE(matches);
        heard_on.push_back(std::this_thread::get_id());
      }));
      EXPECT_NE(checks.back(), nullptr);
    }
    loop.Run();
  };
  EventLoop other_loop;
  std::vector<std::thread::id> heard_here;
  std::vector<std::thread::id> heard_there;
  std::thread::id there;
  std::thread other([&] {
    there = std::this_thread::get_id();
    ask_and_run(other_loop, heard_there);
  });
  ask_and_run(loop_, heard_here);
  other.join();
  EXPECT_EQ(heard_here, std::vector<std::thread::id>(kChecksPerLoop, std::this_thread::get_id()));
  EXPECT_EQ(heard_there, std::vector<std::thread::id>(kChecksPerLoop, there));
  // One thread hashes for both loops.
  EXPECT_EQ(counts.max_running(), 1u);
}

}  // namespace
}  // namespace deputy
