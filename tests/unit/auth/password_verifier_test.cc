// Passwords are checked on libuv's thread pool with the answer back on the loop; the number
// running and waiting is bounded, and a check given up never calls back.
#include "auth/password_verifier.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "support/password_hash.h"

namespace deputy {
namespace {

class PasswordVerifierTest : public ::testing::Test {
 protected:
  void RunLoop() { uv_run(loop_.get(), UV_RUN_DEFAULT); }

  EventLoop loop_;
  const std::string hash_ = test::HashPassword("secret", "$2b$", 5);
};

TEST_F(PasswordVerifierTest, TellsARightPasswordFromAWrongOne) {
  PasswordVerifier verifier(loop_, 2, 8);
  std::optional<bool> right;
  std::optional<bool> wrong;
  auto a = verifier.Verify("secret", hash_, [&](bool matches) { right = matches; });
  auto b = verifier.Verify("secret ", hash_, [&](bool matches) { wrong = matches; });
  ASSERT_TRUE(a && b);
  // Never inside Verify: only the loop delivers answers.
  EXPECT_FALSE(right.has_value());
  EXPECT_EQ(verifier.running(), 2u);
  RunLoop();
  EXPECT_EQ(right, true);
  EXPECT_EQ(wrong, false);
  EXPECT_EQ(verifier.running(), 0u);
}

TEST_F(PasswordVerifierTest, AHashOfAnotherMethodOrGarbageNeverMatches) {
  PasswordVerifier verifier(loop_, 1, 8);
  std::vector<bool> answers;
  std::vector<std::unique_ptr<PasswordCheck>> checks;
  for (const std::string& hash : {std::string("*"), std::string("$2b$05$short"), std::string()}) {
    checks.push_back(verifier.Verify("secret", hash, [&](bool m) { answers.push_back(m); }));
  }
  RunLoop();
  EXPECT_EQ(answers, std::vector<bool>({false, false, false}));
}

TEST_F(PasswordVerifierTest, RunsAtMostMaxRunningAndRefusesBeyondTheQueue) {
  PasswordVerifier verifier(loop_, 1, 2);
  int answered = 0;
  std::vector<std::unique_ptr<PasswordCheck>> checks;
  for (int i = 0; i < 3; ++i) {
    checks.push_back(verifier.Verify("secret", hash_, [&](bool) { ++answered; }));
    ASSERT_NE(checks.back(), nullptr) << i;
  }
  EXPECT_EQ(verifier.running(), 1u);
  EXPECT_EQ(verifier.waiting(), 2u);
  EXPECT_EQ(verifier.Verify("secret", hash_, [&](bool) { ++answered; }), nullptr);
  RunLoop();
  EXPECT_EQ(answered, 3);
  EXPECT_EQ(verifier.waiting(), 0u);
}

TEST_F(PasswordVerifierTest, ACheckGivenUpNeverCallsBackAndFreesItsPlace) {
  PasswordVerifier verifier(loop_, 1, 1);
  bool called = false;
  auto running = verifier.Verify("secret", hash_, [&](bool) { called = true; });
  auto waiting = verifier.Verify("secret", hash_, [&](bool) { called = true; });
  waiting.reset();
  EXPECT_EQ(verifier.waiting(), 0u);
  std::optional<bool> later;
  auto next = verifier.Verify("secret", hash_, [&](bool m) { later = m; });
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
    PasswordVerifier verifier(loop_, 1, 1);
    running = verifier.Verify("secret", hash_, [&](bool) { called = true; });
    waiting = verifier.Verify("secret", hash_, [&](bool) { called = true; });
  }
  // The running job still reports to the loop; it must find nobody and free itself.
  RunLoop();
  running.reset();
  waiting.reset();
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace deputy
