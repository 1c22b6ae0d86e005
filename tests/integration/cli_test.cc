// The command line and the admin endpoint, as an operator uses them.
#include <gtest/gtest.h>

#include "integration/world.h"

namespace deputy::test {
namespace {

TEST(CliTest, CheckAcceptsTheShippedConfig) {
  RunResult result =
      DeputyProcess::RunCommand({"check", "-c", DEPUTY_SOURCE_DIR "/conf/deputy.json"});
  EXPECT_EQ(result.exit_code, 0) << result.stderr_text;
}

TEST(CliTest, CheckRejectsAnUnknownKeyNamingItsPath) {
  TempDir dir;
  std::string path = dir.Write(
      "bad.json",
      R"({"listeners":[{"name":"c","type":"connect","address":"127.0.0.1:3128","colour":"red"}]})");
  RunResult result = DeputyProcess::RunCommand({"check", "-c", path});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.stderr_text.find("listeners[0].colour"), std::string::npos)
      << result.stderr_text;
}

TEST(CliTest, VersionPrintsTheVersion) {
  RunResult result = DeputyProcess::RunCommand({"--version"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.stdout_text.find("deputy "), std::string::npos);
}

TEST(CliTest, ResolveReportsDelegatedNotDelegatedAndFailed) {
  World world;
  auto echo = world.EchoServer({"example.com"});
  world.PublishTarget("xmpp-client", echo->port());
  world.PublishResponse("xmpp-server", {.status = 404});
  world.PublishResponse("imap", {.status = 500});
  world.config["discovery"]["fallback"] = "deny";
  std::string config = world.dir.Write("resolve.json", world.config.dump());

  RunResult delegated =
      DeputyProcess::RunCommand({"resolve", "example.org", "xmpp-client", "-c", config});
  EXPECT_EQ(delegated.exit_code, 0) << delegated.stdout_text << delegated.stderr_text;
  EXPECT_NE(delegated.stdout_text.find("xmpp.example.com:" + std::to_string(echo->port())),
            std::string::npos);
  EXPECT_NE(delegated.stdout_text.find("verifies as example.com"), std::string::npos)
      << delegated.stdout_text;

  RunResult not_delegated =
      DeputyProcess::RunCommand({"resolve", "example.org", "xmpp-server", "-c", config});
  EXPECT_EQ(not_delegated.exit_code, 3) << not_delegated.stdout_text;

  RunResult failed = DeputyProcess::RunCommand({"resolve", "example.org", "imap", "-c", config});
  EXPECT_EQ(failed.exit_code, 1) << failed.stdout_text;
}

TEST(AdminTest, MetricsMoveWithTraffic) {
  World world;
  auto echo = world.EchoServer({"example.com"});
  world.PublishTarget("xmpp-client", echo->port());
  DeputyProcess& deputy = world.StartDeputy();
  auto health = HttpGet(deputy.Port("admin"), "/healthz");
  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(health->head.status, 200);

  {
    auto tunnel = world.OpenTunnel("example.org:xmpp-client");
    ASSERT_EQ(tunnel.head->status, 200);
    ASSERT_TRUE(SendAll(tunnel.socket.fd(), "12345"));
    EXPECT_EQ(tunnel.head->extra + RecvExact(tunnel.socket.fd(), 5).data, "12345");
  }
  ASSERT_EQ(world.OpenTunnel("example.org:bad_service").head->status, 400);
  ASSERT_TRUE(deputy.WaitForAccessLogLines(2, kDefaultTimeout));

  auto metrics = HttpGet(deputy.Port("admin"), "/metrics");
  ASSERT_TRUE(metrics.has_value());
  EXPECT_EQ(metrics->head.status, 200);
  const std::string& text = metrics->body;
  for (const char* expected : {
           "deputy_connections_total{listener=\"connect\"} 2",
           "deputy_connections_active{listener=\"connect\"} 0",
           "deputy_tunnels_total{listener=\"connect\",result=\"ok\"} 1",
           "deputy_tunnels_total{listener=\"connect\",result=\"bad_request\"} 1",
           "deputy_bytes_total{direction=\"upstream\"} 5",
           "deputy_bytes_total{direction=\"downstream\"} 5",
           "deputy_delegation_lookups_total{result=\"miss\"} 1",
           "deputy_delegation_fetches_total{status=\"200\"} 1",
           "deputy_upstream_handshake_seconds_count 1",
       }) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }
  auto missing = HttpGet(deputy.Port("admin"), "/nope");
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->head.status, 404);
}

}  // namespace
}  // namespace deputy::test
