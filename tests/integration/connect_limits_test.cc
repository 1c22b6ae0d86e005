// One CONNECT costs at most upstream.max_attempts connections and upstream.connect_budget_ms of
// time, however many dead entries a document lists; and what the client is told about failed
// attempts never names the addresses deputy tried.
#include <gtest/gtest.h>

#include <chrono>

#include "integration/world.h"
#include "support/tcp_server.h"

namespace deputy::test {
namespace {

constexpr int kEntries = 20;

// A document of `kEntries` entries, all pointing at `port`.
std::string ManyEntries(uint16_t port) {
  nlohmann::json entries = nlohmann::json::array();
  for (int i = 0; i < kEntries; ++i) {
    entries.push_back(World::Entry("xmpp.example.com", port, "example.com"));
  }
  return entries.dump();
}

struct Refusal {
  std::optional<HttpResponseHead> head;
  std::string proxy_status;
  std::string body;
  std::chrono::steady_clock::duration took{};
};

Refusal Connect(World& world) {
  Refusal refusal;
  auto start = std::chrono::steady_clock::now();
  auto tunnel = world.OpenTunnel("example.org:xmpp-client");
  refusal.took = std::chrono::steady_clock::now() - start;
  refusal.head = std::move(tunnel.head);
  if (refusal.head) {
    refusal.proxy_status = refusal.head->Header("proxy-status").value_or("");
    refusal.body = refusal.head->extra + RecvUntilClose(tunnel.socket.fd()).data;
  }
  return refusal;
}

// What the client reads never carries an address of a failed attempt.
void ExpectNoAddress(const Refusal& refusal) {
  EXPECT_EQ(refusal.proxy_status.find("127.0.0.1"), std::string::npos) << refusal.proxy_status;
  EXPECT_EQ(refusal.body.find("127.0.0.1"), std::string::npos) << refusal.body;
}

TEST(ConnectLimitsTest, MaxAttemptsBoundsConnectionsAcrossEntries) {
  World world;
  TcpServer silent(TcpServer::HoldOpen());
  world.Publish("xmpp-client", ManyEntries(silent.port()));
  world.config["upstream"]["handshake_timeout_ms"] = 200;
  world.config["upstream"]["max_attempts"] = 3;
  world.config["upstream"]["connect_budget_ms"] = 60000;
  DeputyProcess& deputy = world.StartDeputy();

  Refusal refusal = Connect(world);
  ExpectRefusal(refusal.head, 504, "connection_timeout");
  EXPECT_NE(
      refusal.proxy_status.find("gave up after 3 connection attempts (upstream.max_attempts)"),
      std::string::npos)
      << refusal.proxy_status;
  ExpectNoAddress(refusal);
  // 3 handshake timeouts of 200 ms, not 20.
  EXPECT_LT(refusal.took, Millis(3000));
  ASSERT_TRUE(deputy.WaitForAccessLogLines(1));
  EXPECT_EQ(deputy.AccessLog().at(0)["result"], "connection_timeout");
  ASSERT_TRUE(silent.accepted().WaitFor(3));
  EXPECT_EQ(silent.accepted().value(), 3u);
}

TEST(ConnectLimitsTest, ConnectBudgetBoundsTheTimeAcrossEntries) {
  World world;
  TcpServer silent(TcpServer::HoldOpen());
  world.Publish("xmpp-client", ManyEntries(silent.port()));
  world.config["upstream"]["handshake_timeout_ms"] = 300;
  world.config["upstream"]["max_attempts"] = 100;
  world.config["upstream"]["connect_budget_ms"] = 700;
  DeputyProcess& deputy = world.StartDeputy();

  Refusal refusal = Connect(world);
  ExpectRefusal(refusal.head, 504, "connection_timeout");
  EXPECT_NE(
      refusal.proxy_status.find("connect budget of 700 ms spent (upstream.connect_budget_ms)"),
      std::string::npos)
      << refusal.proxy_status;
  ExpectNoAddress(refusal);
  // One budget: handshakes at 0, 300 and 600 ms, the last cut to the 100 ms left.
  EXPECT_GE(refusal.took, Millis(700));
  EXPECT_LT(refusal.took, Millis(3000));
  ASSERT_TRUE(deputy.WaitForAccessLogLines(1));
  EXPECT_EQ(deputy.AccessLog().at(0)["result"], "connection_timeout");
  EXPECT_LE(silent.accepted().value(), 3u);
}

TEST(ConnectLimitsTest, RefusalNamesTheHostButNotTheAddressTried) {
  World world;
  uint16_t closed_port = 0;
  Socket reserved = ReserveClosedPort(&closed_port);
  world.PublishTarget("xmpp-client", closed_port);
  DeputyProcess& deputy = world.StartDeputy();

  Refusal refusal = Connect(world);
  ExpectRefusal(refusal.head, 502, "connection_refused");
  EXPECT_NE(refusal.proxy_status.find("xmpp.example.com"), std::string::npos)
      << refusal.proxy_status;
  EXPECT_NE(refusal.body.find("xmpp.example.com"), std::string::npos) << refusal.body;
  ExpectNoAddress(refusal);
  // The operator's log keeps the address.
  EXPECT_TRUE(deputy.WaitForStderr("127.0.0.1:" + std::to_string(closed_port)));
}

}  // namespace
}  // namespace deputy::test
