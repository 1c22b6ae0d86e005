#include "support/deputy_process.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "support/temp_dir.h"

namespace deputy::test {
namespace {

// A stand-in for deputy that keeps its output contract; markers in the config steer it.
constexpr char kFakeDeputy[] = R"(#!/bin/sh
if [ "$1" = "--version" ]; then echo "deputy 9.9.9"; echo "to stderr" >&2; exit 0; fi
if [ "$1" = "hang" ]; then exec sleep 30; fi
[ "$1" = "run" ] && [ "$2" = "-c" ] || exit 2
echo "starting" >&2
[ -n "$4" ] && echo "extra args: $4 $5" >&2
if grep -q fail-fast "$3"; then echo "bad config" >&2; exit 3; fi
if grep -q ignore-term "$3"; then trap '' TERM; else trap 'echo "got TERM" >&2; exit 7' TERM; fi
echo '{"event":"listening","listener":"connect","address":"127.0.0.1:4242"}' >&2
echo '{"event":"listening","listener":"admin","address":"[::1]:4343"}' >&2
grep -q config-marker "$3" && echo "config seen" >&2
echo '{"listener":"connect","result":"ok"}'
echo 'not json'
echo '{"listener":"connect","result":"denied"}'
while :; do sleep 1 & wait $!; done
)";

class DeputyProcessTest : public ::testing::Test {
 protected:
  DeputyProcessTest() : binary_(dir_.Write("fake-deputy", kFakeDeputy)) {
    chmod(binary_.c_str(), 0755);
  }

  static nlohmann::json Config(const std::string& marker) {
    return {{"listeners", {{{"name", "connect"}, {"type", "connect"}, {"address", "127.0.0.1:0"}}}},
            {"admin", {{"address", "127.0.0.1:0"}}},
            {"marker", marker}};
  }

  TempDir dir_;
  std::string binary_;
};

TEST_F(DeputyProcessTest, StartLearnsPortsAndCapturesOutput) {
  DeputyProcess deputy(Config("config-marker"), binary_);
  std::string error;
  ASSERT_TRUE(deputy.Start(&error)) << error;
  EXPECT_EQ(deputy.Port("connect"), 4242);
  EXPECT_EQ(deputy.Port("admin"), 4343);
  EXPECT_EQ(deputy.Port("xmpp"), 0);
  ASSERT_TRUE(deputy.WaitForAccessLogLines(2));
  std::vector<nlohmann::json> log = deputy.AccessLog();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1]["result"], "denied");
  EXPECT_TRUE(deputy.WaitForStderr("config seen"));
  EXPECT_GT(deputy.RssKiB(), 0);
  EXPECT_EQ(deputy.Stop(), 7);
  EXPECT_NE(deputy.Stdout().find("not json"), std::string::npos);
  EXPECT_NE(deputy.Stderr().find("got TERM"), std::string::npos) << deputy.Stderr();
  EXPECT_EQ(deputy.RssKiB(), -1);
  EXPECT_EQ(deputy.Stop(), 7);
}

TEST_F(DeputyProcessTest, RunArgsFollowTheConfigAndStdoutCanBeLeftUnread) {
  DeputyOptions options;
  options.run_args = {"--flag", "value"};
  options.drain_stdout = false;
  DeputyProcess deputy(Config("x"), options, binary_);
  std::string error;
  ASSERT_TRUE(deputy.Start(&error)) << error;
  EXPECT_TRUE(deputy.WaitForStderr("extra args: --flag value"));
  EXPECT_EQ(deputy.Stop(), 7);
  EXPECT_EQ(deputy.Stdout(), "");
  EXPECT_TRUE(deputy.AccessLog().empty());
}

TEST_F(DeputyProcessTest, StartFailsWhenAListenerNeverReports) {
  nlohmann::json config = Config("");
  config["listeners"].push_back({{"name", "xmpp"}, {"type", "fixed"}});
  DeputyProcess deputy(config, binary_);
  std::string error;
  EXPECT_FALSE(deputy.Start(&error, Millis(300)));
  EXPECT_NE(error.find("timed out"), std::string::npos) << error;
  EXPECT_NE(error.find("xmpp"), std::string::npos) << error;
}

TEST_F(DeputyProcessTest, StartFailsFastWhenDeputyExits) {
  DeputyProcess deputy(Config("fail-fast"), binary_);
  std::string error;
  EXPECT_FALSE(deputy.Start(&error));
  EXPECT_NE(error.find("exited"), std::string::npos) << error;
  EXPECT_EQ(deputy.Stop(), 3);
  EXPECT_NE(deputy.Stderr().find("bad config"), std::string::npos);
}

TEST_F(DeputyProcessTest, StopKillsAProcessIgnoringTerm) {
  DeputyProcess deputy(Config("ignore-term"), binary_);
  ASSERT_TRUE(deputy.Start());
  EXPECT_EQ(deputy.Stop(Millis(300)), 128 + 9);
}

TEST_F(DeputyProcessTest, RunCommandCapturesBothStreams) {
  RunResult result = DeputyProcess::RunCommand({"--version"}, kDefaultTimeout, binary_);
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.stdout_text, "deputy 9.9.9\n");
  EXPECT_EQ(result.stderr_text, "to stderr\n");
  EXPECT_FALSE(result.timed_out);
}

TEST_F(DeputyProcessTest, RunCommandKillsAtTheTimeout) {
  RunResult result = DeputyProcess::RunCommand({"hang"}, Millis(300), binary_);
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.exit_code, 128 + 9);
}

}  // namespace
}  // namespace deputy::test
