// A client that leaves before its tunnel is up is noticed at once: its lookup and connect are
// abandoned instead of running for nobody.
#include <gtest/gtest.h>

#include <chrono>

#include "integration/world.h"
#include "support/counter.h"
#include "support/tcp_server.h"

namespace deputy::test {
namespace {

enum class Leave { kFin, kReset };

std::string LeaveName(const ::testing::TestParamInfo<Leave>& info) {
  return info.param == Leave::kFin ? "Fin" : "Reset";
}

// LeaveNow ends the client's side: a FIN (the socket stays open, so the test can see deputy
// close its side too) or a reset.
void LeaveNow(Socket& client, Leave how) {
  if (how == Leave::kFin) {
    ASSERT_TRUE(ShutdownWrite(client.fd()));
  } else {
    client.CloseWithReset();
  }
}

// After a FIN, deputy closes its side at once, without a response: the client is gone.
void ExpectClosedWithoutResponse(Socket& client, Leave how) {
  if (how != Leave::kFin) return;
  Received rest = RecvUntilClose(client.fd(), Millis(1000));
  EXPECT_NE(rest.end, RecvEnd::kTimeout);
  EXPECT_EQ(rest.data, "");
}

constexpr int kSlowAnswerMs = 1500;

class ClientLeavesDuringLookupTest : public ::testing::TestWithParam<Leave> {};

TEST_P(ClientLeavesDuringLookupTest, EndsAtOnceAsClientClosedAndNoUpstreamIsContacted) {
  World world;
  auto upstream = world.EchoServer({"example.com"});
  WellKnownServer::Response slow;
  slow.headers = {{"Content-Type", "application/json"}};
  slow.body =
      nlohmann::json::array({World::Entry("xmpp.example.com", upstream->port(), "example.com")})
          .dump();
  slow.delay_ms = kSlowAnswerMs;
  world.PublishResponse("xmpp-client", slow);
  DeputyProcess& deputy = world.StartDeputy();

  Socket client = ConnectTcp(deputy.Port("connect"));
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(SendAll(client.fd(), ConnectRequest("example.org:xmpp-client")));
  ASSERT_TRUE(
      world.well_known->WaitForRequests(std::string(World::kWellKnownPrefix) + "xmpp-client", 1));
  auto left = std::chrono::steady_clock::now();
  LeaveNow(client, GetParam());

  // Well before the document arrives.
  ASSERT_TRUE(deputy.WaitForAccessLogLines(1, Millis(kSlowAnswerMs / 2)));
  EXPECT_LT(std::chrono::steady_clock::now() - left, Millis(kSlowAnswerMs / 2));
  nlohmann::json line = deputy.AccessLog().at(0);
  EXPECT_EQ(line["result"], "client_closed");
  EXPECT_FALSE(line.contains("target"));
  ExpectClosedWithoutResponse(client, GetParam());

  // A second client that stays gets its tunnel from the same document; the upstream has then
  // seen its connection and no other.
  auto stays = world.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(stays.head.has_value());
  ASSERT_EQ(stays.head->status, 200);
  ASSERT_TRUE(SendAll(stays.socket.fd(), "ping"));
  EXPECT_EQ(stays.head->extra + RecvExact(stays.socket.fd(), 4 - stays.head->extra.size()).data,
            "ping");
  EXPECT_EQ(upstream->accepted().value(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Ways, ClientLeavesDuringLookupTest,
                         ::testing::Values(Leave::kFin, Leave::kReset), LeaveName);

class ClientLeavesDuringHandshakeTest : public ::testing::TestWithParam<Leave> {};

TEST_P(ClientLeavesDuringHandshakeTest, FixedListenerAbandonsTheUpstreamHandshake) {
  World world;
  // Accepts TCP and never answers the ClientHello; counts connections that deputy closes.
  Counter upstream_closed;
  TcpServer silent([&upstream_closed](TcpConnection& conn) {
    if (conn.WaitForPeerClose(Millis(60000))) upstream_closed.Add();
  });
  world.PublishTarget("xmpp-client", silent.port());
  world.config["listeners"].push_back({{"name", "xmpp"},
                                       {"type", "fixed"},
                                       {"address", "127.0.0.1:0"},
                                       {"domain", "example.org"},
                                       {"service", "xmpp-client"}});
  world.config["upstream"]["handshake_timeout_ms"] = 10000;
  DeputyProcess& deputy = world.StartDeputy();

  Socket client = ConnectTcp(deputy.Port("xmpp"));
  ASSERT_TRUE(client.valid());
  // The ClientHello has arrived: the handshake is under way.
  ASSERT_TRUE(silent.bytes_received().WaitFor(1));
  LeaveNow(client, GetParam());

  EXPECT_TRUE(upstream_closed.WaitFor(1, Millis(1000)));
  ASSERT_TRUE(deputy.WaitForAccessLogLines(1, Millis(1000)));
  EXPECT_EQ(deputy.AccessLog().at(0)["result"], "client_closed");
  ExpectClosedWithoutResponse(client, GetParam());
  EXPECT_EQ(silent.accepted().value(), 1u);
}

// A fixed listener's client speaks plain TCP, so only a reset means it left; a FIN is its
// half-close (next test).
INSTANTIATE_TEST_SUITE_P(Ways, ClientLeavesDuringHandshakeTest, ::testing::Values(Leave::kReset),
                         LeaveName);

// A plain-TCP client that sends its whole request and half-closes at once (printf ... | nc -N)
// still gets the upstream's whole answer through a fixed listener: its FIN reaches the upstream
// after its bytes, once the tunnel is up.
TEST(FixedListenerHalfCloseTest, FinBeforeTheTunnelIsPassedOnAfterTheRequest) {
  World world;
  TlsServer upstream(world.ca.Issue(CertOptions{{"example.com"}}), [](TlsConnection& conn) {
    std::string request;
    if (!conn.ReadUntilClose(&request)) return;
    conn.WriteAll("reply to " + request);
    conn.ShutdownWrite();
  });
  world.PublishTarget("xmpp-client", upstream.port());
  world.config["listeners"].push_back({{"name", "xmpp"},
                                       {"type", "fixed"},
                                       {"address", "127.0.0.1:0"},
                                       {"domain", "example.org"},
                                       {"service", "xmpp-client"}});
  DeputyProcess& deputy = world.StartDeputy();
  Socket client = ConnectTcp(deputy.Port("xmpp"));
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(SendAll(client.fd(), "question"));
  ASSERT_TRUE(ShutdownWrite(client.fd()));
  Received answer = RecvUntilClose(client.fd());
  EXPECT_EQ(answer.end, RecvEnd::kEof);
  EXPECT_EQ(answer.data, "reply to question");
  ASSERT_TRUE(deputy.WaitForAccessLogLines(1));
  EXPECT_EQ(deputy.AccessLog().at(0)["result"], "ok");
}

}  // namespace
}  // namespace deputy::test
