// Through a real deputy: the admin listener's probes, debug views and drain. /readyz turns 503
// when deputy drains while /healthz stays 200; /debug/tunnels and /debug/delegations describe
// what runs and what is cached; POST /drain stops accepting and exits once the tunnels end; with
// admin.token_file everything but the probes needs the bearer token.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "integration/world.h"
#include "support/client.h"
#include "support/metric_wait.h"
#include "support/socket.h"
#include "support/temp_dir.h"

namespace deputy::test {
namespace {

// AdminRequest sends `method` `path` with `headers` (complete lines) to the admin listener.
std::optional<HttpResponse> AdminRequest(uint16_t port, const std::string& method,
                                         const std::string& path, const std::string& headers = "") {
  return HttpRequest(port, method, path, headers);
}

// StatusOf is the response's status code, or -1 when no response came.
int StatusOf(const std::optional<HttpResponse>& response) {
  return response ? response->head.status : -1;
}

nlohmann::json JsonOf(const std::optional<HttpResponse>& response) {
  if (!response || response->head.status != 200) return nullptr;
  return nlohmann::json::parse(response->body, nullptr, false);
}

class AdminEndpointsTest : public ::testing::Test {
 protected:
  AdminEndpointsTest() : echo_(world_.EchoServer({"example.com"})) {
    world_.PublishTarget("xmpp-client", echo_->port(), {{"Cache-Control", "max-age=3600"}});
  }

  World world_;
  std::unique_ptr<TlsServer> echo_;
};

TEST_F(AdminEndpointsTest, DebugConfigShowsTheConfigurationInForceAfterAReload) {
  DeputyProcess& deputy = world_.StartDeputy();
  const uint16_t admin = deputy.Port("admin");
  nlohmann::json shown = JsonOf(AdminRequest(admin, "GET", "/debug/config"));
  ASSERT_TRUE(shown.is_object()) << shown;
  EXPECT_EQ(shown["generation"], 1);
  EXPECT_EQ(shown["config"]["listeners"][0]["name"], "connect");
  EXPECT_EQ(shown["config"]["upstream"]["buffer_bytes"], 65536) << "defaults are shown";

  nlohmann::json next = world_.config;
  next["upstream"]["buffer_bytes"] = 32768;
  WriteFileOrDie(deputy.config_path(), next.dump());
  auto reloaded = AdminRequest(admin, "POST", "/reload");
  ASSERT_TRUE(reloaded);
  ASSERT_EQ(reloaded->head.status, 200) << reloaded->body;
  shown = JsonOf(AdminRequest(admin, "GET", "/debug/config"));
  EXPECT_EQ(shown["generation"], 2);
  EXPECT_EQ(shown["config"]["upstream"]["buffer_bytes"], 32768);
}

TEST_F(AdminEndpointsTest, DebugEndpointsDescribeWhatRunsAndWhatIsCached) {
  DeputyProcess& deputy = world_.StartDeputy();
  const uint16_t admin = deputy.Port("admin");
  auto ready = AdminRequest(admin, "GET", "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->head.status, 200);
  EXPECT_EQ(ready->body, "ready\n");

  World::Opened tunnel = world_.OpenTunnel("example.org:xmpp-client");
  ASSERT_EQ(tunnel.head->status, 200);
  nlohmann::json tunnels = JsonOf(AdminRequest(admin, "GET", "/debug/tunnels"));
  ASSERT_TRUE(tunnels.is_object()) << tunnels;
  EXPECT_EQ(tunnels["listeners"]["connect"]["tunnel"], 1) << tunnels;
  EXPECT_EQ(tunnels["listeners"]["connect"]["lookup"], 0) << tunnels;
  EXPECT_EQ(tunnels["listeners"]["connect"]["total"], 1) << tunnels;
  EXPECT_EQ(tunnels["all"]["total"], 1) << tunnels;

  nlohmann::json cached = JsonOf(AdminRequest(admin, "GET", "/debug/delegations"));
  ASSERT_TRUE(cached.is_object()) << cached;
  ASSERT_EQ(cached["entries"].size(), 1u) << cached;
  const nlohmann::json& entry = cached["entries"][0];
  EXPECT_EQ(entry["domain"], "example.org");
  EXPECT_EQ(entry["service"], "xmpp-client");
  EXPECT_EQ(entry["kind"], "targets");
  EXPECT_EQ(entry["http_status"], 200);
  EXPECT_EQ(entry["ttl_s"], 3600);
  EXPECT_EQ(entry["stale"], false);
  EXPECT_GE(entry["age_s"].get<double>(), 0);
  EXPECT_GT(entry["remaining_s"].get<double>(), 3500);
  EXPECT_LE(entry["remaining_s"].get<double>(), 3600);
  ASSERT_EQ(entry["targets"].size(), 1u);
  EXPECT_EQ(entry["targets"][0]["host"], "xmpp.example.com");
  EXPECT_EQ(entry["targets"][0]["port"], echo_->port());
  EXPECT_EQ(entry["targets"][0]["domain"], "example.com");

  EXPECT_EQ(StatusOf(AdminRequest(admin, "GET", "/debug/nothing")), 404);
  auto post_metrics = AdminRequest(admin, "POST", "/metrics");
  ASSERT_TRUE(post_metrics);
  EXPECT_EQ(post_metrics->head.status, 405);
  EXPECT_EQ(post_metrics->head.Header("allow"), "GET, HEAD");
  auto get_drain = AdminRequest(admin, "GET", "/drain");
  ASSERT_TRUE(get_drain);
  EXPECT_EQ(get_drain->head.status, 405);
  EXPECT_EQ(get_drain->head.Header("allow"), "POST");
}

TEST_F(AdminEndpointsTest, PostDrainStopsAcceptingAndExitsOnceTheTunnelsEnd) {
  DeputyProcess& deputy = world_.StartDeputy();
  const uint16_t admin = deputy.Port("admin");
  World::Opened tunnel = world_.OpenTunnel("example.org:xmpp-client");
  ASSERT_EQ(tunnel.head->status, 200);

  auto drain = AdminRequest(admin, "POST", "/drain");
  ASSERT_TRUE(drain);
  EXPECT_EQ(drain->head.status, 202) << drain->body;
  ASSERT_TRUE(deputy.WaitForStderr("POST /drain"));
  auto again = AdminRequest(admin, "POST", "/drain");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->head.status, 200);
  EXPECT_EQ(again->body, "already draining\n");
  auto ready = AdminRequest(admin, "GET", "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->head.status, 503);
  EXPECT_EQ(ready->body, "draining: not accepting new clients\n");
  EXPECT_EQ(StatusOf(AdminRequest(admin, "GET", "/healthz")), 200);

  // A new client gets no tunnel; the running one carries on to its end.
  world_.ExpectNoNewTunnel();
  World::ExpectTunnelEndsCleanly(tunnel);
  EXPECT_EQ(deputy.WaitForExit(Millis(10000)), 0);
}

TEST_F(AdminEndpointsTest, ATokenGuardsEverythingButTheProbes) {
  world_.config["admin"]["token_file"] = world_.dir.Write("admin-token", "s3cret-token\n");
  DeputyProcess& deputy = world_.StartDeputy();
  const uint16_t admin = deputy.Port("admin");
  for (const char* path : {"/metrics", "/debug/tunnels", "/debug/delegations", "/debug/config"}) {
    for (const std::string& credentials :
         {std::string(), std::string("Authorization: Bearer wrong-token!\r\n"),
          std::string("Authorization: Bearer s3cret-token-and-more\r\n"),
          std::string("Authorization: Basic czNjcmV0LXRva2Vu\r\n")}) {
      auto refused = AdminRequest(admin, "GET", path, credentials);
      ASSERT_TRUE(refused);
      EXPECT_EQ(refused->head.status, 401) << path << " with " << credentials;
      EXPECT_EQ(refused->head.Header("www-authenticate"), "Bearer realm=\"deputy admin\"");
    }
    EXPECT_EQ(StatusOf(AdminRequest(admin, "GET", path, "Authorization: Bearer s3cret-token\r\n")),
              200)
        << path;
  }
  for (const char* probe : {"/healthz", "/readyz"}) {
    EXPECT_EQ(StatusOf(AdminRequest(admin, "GET", probe)), 200) << probe;
  }
  EXPECT_EQ(StatusOf(AdminRequest(admin, "POST", "/drain")), 401);
  EXPECT_EQ(StatusOf(AdminRequest(admin, "POST", "/reload")), 401);
  auto metrics = AdminRequest(admin, "GET", "/metrics", "Authorization: Bearer s3cret-token\r\n");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(MetricValue(metrics->body, "deputy_config_reloads_total{result=\"ok\"}"), 0)
      << "an unauthorised reload must not reload";
  EXPECT_EQ(StatusOf(AdminRequest(admin, "GET", "/readyz")), 200)
      << "an unauthorised drain must not drain";
}

TEST_F(AdminEndpointsTest, ABadTokenFileStopsDeputyFromStarting) {
  world_.config["admin"]["token_file"] = world_.dir.Write("admin-token", " \n");
  DeputyProcess empty(world_.config);
  EXPECT_FALSE(empty.Start());
  EXPECT_NE(empty.Stderr().find("holds no token"), std::string::npos) << empty.Stderr();

  world_.config["admin"]["token_file"] = world_.dir.Write("admin-token", "two words\n");
  DeputyProcess spaced(world_.config);
  EXPECT_FALSE(spaced.Start());
  EXPECT_NE(spaced.Stderr().find("one word of visible ASCII"), std::string::npos)
      << spaced.Stderr();

  world_.config["admin"]["token_file"] = world_.dir.path() + "/absent";
  RunResult check = DeputyProcess::RunCommand(
      {"check", "-c", world_.dir.Write("deputy.json", world_.config.dump())});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.stderr_text.find("admin.token_file"), std::string::npos) << check.stderr_text;

  world_.config["admin"].erase("address");
  check = DeputyProcess::RunCommand(
      {"check", "-c", world_.dir.Write("deputy.json", world_.config.dump())});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.stderr_text.find("needs admin.address"), std::string::npos) << check.stderr_text;
}

}  // namespace
}  // namespace deputy::test
