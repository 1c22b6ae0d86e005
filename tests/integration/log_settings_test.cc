// Through a real deputy: access_log.path sends the access log to a file that SIGUSR1 (and
// SIGHUP) re-open after logrotate moved it, losing no line; log.format "json" makes every
// diagnostic line one JSON object; log.level filters, a reload changes both, and --log-level
// on the command line wins over the file.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "integration/world.h"
#include "support/metric_wait.h"
#include "support/temp_dir.h"

namespace deputy::test {
namespace {

// Lines splits `text` into its complete lines.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class LogSettingsTest : public ::testing::Test {
 protected:
  LogSettingsTest() : echo_(world_.EchoServer({"example.com"})) {
    world_.PublishTarget("xmpp-client", echo_->port(), {{"Cache-Control", "max-age=3600"}});
  }

  World world_;
  std::unique_ptr<TlsServer> echo_;
};

TEST_F(LogSettingsTest, TheAccessLogFileIsReopenedOnSigusr1AfterLogrotateMovedIt) {
  const std::string path = world_.dir.path() + "/access.log";
  world_.config["access_log"] = {{"path", path}};
  DeputyProcess& deputy = world_.StartDeputy();
  world_.ExpectTunnel("example.org:xmpp-client");
  ASSERT_TRUE(WaitForFileLines(path, 1));
  ASSERT_EQ(std::rename(path.c_str(), (path + ".1").c_str()), 0);
  ASSERT_EQ(kill(deputy.pid(), SIGUSR1), 0);
  ASSERT_TRUE(deputy.WaitForStderr("access log re-opened: " + path)) << deputy.Stderr();
  world_.ExpectTunnel("example.org:xmpp-client");
  world_.ExpectTunnel("example.org:xmpp-client");
  ASSERT_TRUE(WaitForFileLines(path, 2));

  const std::vector<std::string> rotated = Lines(ReadFileText(path + ".1"));
  const std::vector<std::string> current = Lines(ReadFileText(path));
  ASSERT_EQ(rotated.size(), 1u);
  ASSERT_EQ(current.size(), 2u);
  for (const std::string& text : {rotated[0], current[0], current[1]}) {
    const nlohmann::json line = nlohmann::json::parse(text, nullptr, false);
    ASSERT_TRUE(line.is_object()) << text;
    EXPECT_EQ(line["result"], "ok") << line;
    EXPECT_EQ(line["domain"], "example.org") << line;
  }
  EXPECT_TRUE(deputy.AccessLog().empty()) << "stdout got access lines";
}

TEST_F(LogSettingsTest, JsonDiagnosticsAndTheLevelApplyAtStartAndChangeOnReload) {
  world_.config["log"] = {{"format", "json"}, {"level", "info"}};
  DeputyProcess& deputy = world_.StartDeputy();
  ASSERT_TRUE(deputy.WaitForStderr("started with"));
  bool started = false;
  for (const std::string& text : Lines(deputy.Stderr())) {
    const nlohmann::json line = nlohmann::json::parse(text, nullptr, false);
    ASSERT_TRUE(line.is_object()) << "not JSON: " << text;
    if (line.contains("event")) continue;  // the listening announcements
    EXPECT_TRUE(line.contains("time") && line.contains("level") && line.contains("message"))
        << text;
    if (line.value("message", "").find("started with") != std::string::npos) {
      started = true;
      EXPECT_EQ(line["level"], "info");
    }
  }
  EXPECT_TRUE(started) << deputy.Stderr();

  // Text at warn from this reload on: its own "reloaded" line (info) is not written, and the
  // error of the next, failed, reload is, as text.
  nlohmann::json quiet = world_.config;
  quiet["log"] = {{"format", "text"}, {"level", "warn"}};
  WriteFileOrDie(deputy.config_path(), quiet.dump());
  ASSERT_EQ(kill(deputy.pid(), SIGHUP), 0);
  const uint16_t admin = deputy.Port("admin");
  ASSERT_TRUE(WaitForMetricAtLeast(admin, "deputy_config_reloads_total{result=\"ok\"}", 1));
  WriteFileOrDie(deputy.config_path(), "not json");
  ASSERT_EQ(kill(deputy.pid(), SIGHUP), 0);
  ASSERT_TRUE(deputy.WaitForStderr(" error reload of ")) << deputy.Stderr();
  const std::string stderr_text = deputy.Stderr();
  EXPECT_EQ(stderr_text.find("reloaded " + deputy.config_path()), std::string::npos)
      << "an info line was written at level warn:\n"
      << stderr_text;
}

TEST_F(LogSettingsTest, LogLevelOnTheCommandLineWinsOverTheConfiguration) {
  world_.config["log"] = {{"level", "error"}};
  DeputyOptions options;
  options.run_args = {"--log-level", "info"};
  DeputyProcess deputy(world_.config, options);
  std::string error;
  ASSERT_TRUE(deputy.Start(&error)) << error;
  EXPECT_TRUE(deputy.WaitForStderr(" info deputy ")) << deputy.Stderr();
}

TEST_F(LogSettingsTest, AnAccessLogThatCannotBeOpenedStopsStartAndFailsAReload) {
  world_.config["access_log"] = {{"path", world_.dir.path() + "/missing/access.log"}};
  DeputyProcess refused(world_.config);
  EXPECT_FALSE(refused.Start());
  EXPECT_TRUE(refused.WaitForStderr("access_log.path: cannot open")) << refused.Stderr();

  world_.config.erase("access_log");
  DeputyProcess& deputy = world_.StartDeputy();
  nlohmann::json unopenable = world_.config;
  unopenable["access_log"] = {{"path", world_.dir.path() + "/missing/access.log"}};
  WriteFileOrDie(deputy.config_path(), unopenable.dump());
  ASSERT_EQ(kill(deputy.pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitForMetricAtLeast(deputy.Port("admin"),
                                   "deputy_config_reloads_total{result=\"error\"}", 1));
  world_.ExpectTunnel("example.org:xmpp-client");
  ASSERT_TRUE(deputy.WaitForAccessLogLines(1)) << "the access log left stdout";
}

}  // namespace
}  // namespace deputy::test
