// Through a real deputy: SIGHUP and POST /reload read the configuration file again and apply it
// to new sessions, all of it or none. Established tunnels carry on with every byte across
// reloads, valid or not; added listeners accept, removed ones refuse while their tunnels go on;
// a new url_template or new trust anchors flush the delegation cache, a new lifetime bound does
// not.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/unique_fd.h"
#include "integration/world.h"
#include "support/client.h"
#include "support/metric_wait.h"
#include "support/random_data.h"

namespace deputy::test {
namespace {

constexpr const char* kReloadsOk = "deputy_config_reloads_total{result=\"ok\"}";
constexpr const char* kReloadsError = "deputy_config_reloads_total{result=\"error\"}";
constexpr const char* kLastReloadSuccess = "deputy_config_last_reload_success";

// FreeLoopbackPort is a port nothing listens on now: bound once by the kernel's choice, then
// released.
uint16_t FreeLoopbackPort() {
  UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(socket.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0 ||
      getsockname(socket.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return 0;
  }
  return ntohs(address.sin_port);
}

// Refuses is whether nothing accepts on 127.0.0.1:`port`.
bool Refuses(uint16_t port) {
  UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) !=
             0 &&
         errno == ECONNREFUSED;
}

class ReloadTest : public ::testing::Test {
 protected:
  ReloadTest() : echo_(world_.EchoServer({"example.com"})) {
    world_.PublishTarget("xmpp-client", echo_->port(), {{"Cache-Control", "max-age=3600"}});
  }

  DeputyProcess& Start() {
    DeputyProcess& deputy = world_.StartDeputy();
    admin_ = deputy.Port("admin");
    return deputy;
  }

  // Write replaces deputy's configuration file with `text`.
  void Write(const std::string& text) {
    std::ofstream file(world_.deputy->config_path(), std::ios::trunc);
    file << text;
    ASSERT_TRUE(file.good());
  }

  // Reload writes `config` (a JSON document, or any text) and sends SIGHUP, then waits until
  // deputy has counted the reload with `result` ("ok" or "error").
  void Reload(const std::string& config, const std::string& result) {
    Write(config);
    const std::string sample = result == "ok" ? kReloadsOk : kReloadsError;
    int& seen = result == "ok" ? ok_ : errors_;
    ASSERT_EQ(kill(world_.deputy->pid(), SIGHUP), 0);
    ASSERT_TRUE(WaitForMetricAtLeast(admin_, sample, ++seen))
        << "reload not counted as " << result << "\nstderr:\n"
        << world_.deputy->Stderr();
  }

  // ExpectEcho sends `bytes` random bytes on `tunnel` and expects them back.
  static void ExpectEcho(World::Opened& tunnel, size_t bytes) {
    const std::string data = RandomBytes(bytes);
    ASSERT_TRUE(SendAll(tunnel.socket.fd(), data));
    EXPECT_EQ(RecvExact(tunnel.socket.fd(), data.size()).data, data);
  }

  // OpenTunnelOn opens a tunnel through the connect listener on `port` and expects an echo.
  World::Opened OpenTunnelOn(uint16_t port) {
    World::Opened opened;
    opened.socket = ConnectTcp(port);
    EXPECT_TRUE(opened.socket.valid());
    if (!opened.socket.valid()) return opened;
    EXPECT_TRUE(SendAll(opened.socket.fd(), ConnectRequest("example.org:xmpp-client")));
    opened.head = ReadHttpResponseHead(opened.socket.fd());
    EXPECT_TRUE(opened.head && opened.head->status == 200);
    return opened;
  }

  World world_;
  std::unique_ptr<TlsServer> echo_;
  uint16_t admin_ = 0;
  int ok_ = 0;
  int errors_ = 0;
};

TEST_F(ReloadTest, TwoHundredTunnelsCarryEveryByteAcrossFiveReloads) {
  constexpr size_t kTunnels = 200;
  DeputyProcess& deputy = Start();
  std::vector<World::Opened> tunnels;
  for (size_t i = 0; i < kTunnels; ++i) {
    tunnels.push_back(world_.OpenTunnel("example.org:xmpp-client"));
    ASSERT_TRUE(tunnels.back().head && tunnels.back().head->status == 200) << "tunnel " << i;
  }
  auto carry_data = [&] {
    for (World::Opened& tunnel : tunnels) ExpectEcho(tunnel, 1024);
  };

  // 1. Valid, adding a listener: it accepts at once.
  nlohmann::json with_extra = world_.config;
  with_extra["listeners"].push_back(
      {{"name", "extra"}, {"type", "connect"}, {"address", "127.0.0.1:0"}});
  Reload(with_extra.dump(), "ok");
  ASSERT_TRUE(deputy.WaitForStderr("\"listener\":\"extra\""));
  const uint16_t extra = deputy.Port("extra");
  ASSERT_NE(extra, 0);
  World::Opened on_extra = OpenTunnelOn(extra);
  carry_data();

  // 2. Invalid JSON: everything stays as it was.
  Reload("{\"listeners\": [", "error");
  EXPECT_EQ(ScrapeMetric(admin_, kLastReloadSuccess), 0);
  World::Opened on_extra_still = OpenTunnelOn(extra);
  carry_data();

  // 3. Valid, removing the listener: its port refuses, its tunnel goes on.
  Reload(world_.config.dump(), "ok");
  EXPECT_EQ(ScrapeMetric(admin_, kLastReloadSuccess), 1);
  EXPECT_TRUE(Refuses(extra));
  // /debug/tunnels still shows what the removed listener accepted.
  std::optional<HttpResponse> debug_tunnels = HttpGet(admin_, "/debug/tunnels");
  ASSERT_TRUE(debug_tunnels.has_value());
  const nlohmann::json removed =
      nlohmann::json::parse(debug_tunnels->body)["listeners"].value("extra", nlohmann::json());
  EXPECT_EQ(removed.value("removed", false), true) << removed;
  EXPECT_EQ(removed.value("tunnel", -1), 2) << removed;
  ExpectEcho(on_extra, 4096);
  world_.ExpectTunnel("example.org:xmpp-client");
  carry_data();

  // 4. Well-formed but unloadable (a certificate file that is not there): none of it applies,
  // not even the listener that would have loaded.
  nlohmann::json unloadable = world_.config;
  unloadable["listeners"].push_back(
      {{"name", "another"}, {"type", "connect"}, {"address", "127.0.0.1:0"}});
  unloadable["listeners"].push_back({{"name", "tls"},
                                     {"type", "connect"},
                                     {"address", "127.0.0.1:0"},
                                     {"tls",
                                      {{"cert_file", world_.dir.path() + "/missing.pem"},
                                       {"key_file", world_.dir.path() + "/missing.key"}}}});
  Reload(unloadable.dump(), "error");
  EXPECT_TRUE(deputy.WaitForStderr("missing.pem")) << deputy.Stderr();
  carry_data();

  // 5. Valid, changing what new sessions get (a smaller buffer): established tunnels go on.
  nlohmann::json smaller = world_.config;
  smaller["upstream"]["buffer_bytes"] = 16384;
  Reload(smaller.dump(), "ok");
  carry_data();
  world_.ExpectTunnel("example.org:xmpp-client");

  for (World::Opened& tunnel : tunnels) World::ExpectTunnelEndsCleanly(tunnel);
  World::ExpectTunnelEndsCleanly(on_extra);
  World::ExpectTunnelEndsCleanly(on_extra_still);
  EXPECT_EQ(ScrapeMetric(admin_, kReloadsOk), 3);
  EXPECT_EQ(ScrapeMetric(admin_, kReloadsError), 2);
  EXPECT_EQ(ScrapeMetric(admin_, kLastReloadSuccess), 1);
  EXPECT_GT(ScrapeMetric(admin_, "deputy_config_last_reload_success_timestamp_seconds").value_or(0),
            0);
  ASSERT_TRUE(deputy.WaitForAccessLogLines(kTunnels + 4));
  for (const nlohmann::json& line : deputy.AccessLog()) {
    EXPECT_EQ(line.value("result", ""), "ok") << line;
  }
}

TEST_F(ReloadTest, AListenerMovedToAnotherPortRefusesOnTheOldOneWhileItsTunnelsGoOn) {
  DeputyProcess& deputy = Start();
  const uint16_t before = deputy.Port("connect");
  World::Opened tunnel = world_.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(tunnel.head && tunnel.head->status == 200);
  const uint16_t after = FreeLoopbackPort();
  ASSERT_NE(after, 0);
  nlohmann::json moved = world_.config;
  moved["listeners"][0]["address"] = "127.0.0.1:" + std::to_string(after);
  Reload(moved.dump(), "ok");
  EXPECT_TRUE(Refuses(before));
  ASSERT_TRUE(deputy.WaitForStderr("\"address\":\"127.0.0.1:" + std::to_string(after) + "\""));
  EXPECT_EQ(deputy.Port("connect"), after);
  World::Opened moved_tunnel = OpenTunnelOn(after);
  ExpectEcho(tunnel, 2048);
  World::ExpectTunnelEndsCleanly(tunnel);
  World::ExpectTunnelEndsCleanly(moved_tunnel);
}

TEST_F(ReloadTest, ABindFailureFailsTheWholeReloadAndLeavesNoSocketBehind) {
  DeputyProcess& deputy = Start();
  const uint16_t free_port = FreeLoopbackPort();
  ASSERT_NE(free_port, 0);
  nlohmann::json two = world_.config;
  two["listeners"].push_back({{"name", "first"},
                              {"type", "connect"},
                              {"address", "127.0.0.1:" + std::to_string(free_port)}});
  // The echo server listens there: binding it fails, after "first" was bound.
  two["listeners"].push_back({{"name", "second"},
                              {"type", "connect"},
                              {"address", "127.0.0.1:" + std::to_string(echo_->port())}});
  Reload(two.dump(), "error");
  EXPECT_TRUE(deputy.WaitForStderr("listener second: cannot listen")) << deputy.Stderr();
  EXPECT_TRUE(Refuses(free_port)) << "a socket of the failed reload stayed open";
  world_.ExpectTunnel("example.org:xmpp-client");

  two["listeners"].erase(2);
  Reload(two.dump(), "ok");
  World::Opened on_first = OpenTunnelOn(free_port);
  World::ExpectTunnelEndsCleanly(on_first);
}

TEST_F(ReloadTest, ALookupAfterAFlushDoesNotJoinAFetchFromTheOldSource) {
  WellKnownServer::Response slow;
  slow.headers = {{"Cache-Control", "max-age=3600"}, {"Content-Type", "application/json"}};
  slow.body =
      nlohmann::json::array({World::Entry("xmpp.example.com", echo_->port(), "example.com")})
          .dump();
  slow.delay_ms = 1000;
  world_.PublishResponse("xmpp-client", slow);
  Start();
  std::thread before([&] { world_.ExpectTunnel("example.org:xmpp-client"); });
  ASSERT_TRUE(world_.well_known->WaitForRequests(
      std::string(World::kWellKnownPrefix) + "xmpp-client", 1, kDefaultTimeout));
  nlohmann::json config = world_.config;
  config["discovery"]["url_template"] =
      config["discovery"]["url_template"].get<std::string>() + "?reloaded=1";
  Reload(config.dump(), "ok");
  world_.ExpectTunnel("example.org:xmpp-client");
  before.join();
  EXPECT_EQ(world_.Fetches("xmpp-client"), 2)
      << "the lookup after the reload joined the fetch from the old URL";
}

TEST_F(ReloadTest, ANewUrlTemplateOrNewTrustAnchorsFlushTheCacheAndANewTtlBoundDoesNot) {
  Start();
  world_.ExpectTunnel("example.org:xmpp-client");
  ASSERT_EQ(world_.Fetches("xmpp-client"), 1);

  nlohmann::json config = world_.config;
  config["discovery"]["max_ttl_s"] = 7200;
  Reload(config.dump(), "ok");
  world_.ExpectTunnel("example.org:xmpp-client");
  EXPECT_EQ(world_.Fetches("xmpp-client"), 1) << "a new lifetime bound flushed the cache";

  config["discovery"]["url_template"] =
      config["discovery"]["url_template"].get<std::string>() + "?reloaded=1";
  Reload(config.dump(), "ok");
  world_.ExpectTunnel("example.org:xmpp-client");
  EXPECT_EQ(world_.Fetches("xmpp-client"), 2) << "a new url_template kept the cache";
  EXPECT_EQ(ScrapeMetric(admin_, "deputy_delegation_cache_evictions_total{reason=\"reload\"}"), 1);

  // The same anchors under another name are the same anchors; other anchors are not.
  const std::string same = world_.dir.path() + "/same-ca.pem";
  const std::string other = world_.dir.path() + "/other-ca.pem";
  {
    std::ifstream in(world_.ca_file);
    std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(same) << pem;
    TestCa extra("another test CA");
    std::ofstream(other) << pem << extra.cert_pem();
  }
  config["discovery"]["ca_file"] = same;
  Reload(config.dump(), "ok");
  world_.ExpectTunnel("example.org:xmpp-client");
  EXPECT_EQ(world_.Fetches("xmpp-client"), 2) << "the same anchors flushed the cache";
  config["discovery"]["ca_file"] = other;
  Reload(config.dump(), "ok");
  world_.ExpectTunnel("example.org:xmpp-client");
  EXPECT_EQ(world_.Fetches("xmpp-client"), 3) << "new anchors kept the cache";
}

TEST_F(ReloadTest, PostReloadAppliesAValidFileAndExplainsAnInvalidOne) {
  DeputyProcess& deputy = Start();
  nlohmann::json bad = world_.config;
  bad["upstream"]["buffer_bytes"] = "lots";
  Write(bad.dump());
  auto refused = HttpRequest(admin_, "POST", "/reload");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->head.status, 500);
  EXPECT_NE(refused->body.find("upstream.buffer_bytes"), std::string::npos) << refused->body;
  EXPECT_EQ(ScrapeMetric(admin_, kReloadsError), 1);
  EXPECT_EQ(ScrapeMetric(admin_, kLastReloadSuccess), 0);
  world_.ExpectTunnel("example.org:xmpp-client");

  nlohmann::json good = world_.config;
  good["listeners"].push_back({{"name", "added"}, {"type", "connect"}, {"address", "127.0.0.1:0"}});
  Write(good.dump());
  auto applied = HttpRequest(admin_, "POST", "/reload");
  ASSERT_TRUE(applied);
  EXPECT_EQ(applied->head.status, 200) << applied->body;
  EXPECT_EQ(ScrapeMetric(admin_, kReloadsOk), 1);
  EXPECT_EQ(ScrapeMetric(admin_, kLastReloadSuccess), 1);
  ASSERT_TRUE(deputy.WaitForStderr("\"listener\":\"added\""));
  World::Opened added = OpenTunnelOn(deputy.Port("added"));
  World::ExpectTunnelEndsCleanly(added);

  auto wrong_method = HttpRequest(admin_, "GET", "/reload");
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->head.status, 405);
  EXPECT_EQ(wrong_method->head.Header("allow").value_or(""), "POST");
}

}  // namespace
}  // namespace deputy::test
