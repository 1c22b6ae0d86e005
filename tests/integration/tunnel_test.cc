// End-to-end tunnels through a real deputy process: byte-exact relaying in both directions,
// half-close in both directions, and bounded memory under a slow reader. How a reset or other
// failure on one side reaches the other is in failure_propagation_test.cc.
#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "integration/world.h"

namespace deputy::test {
namespace {

constexpr size_t kSixteenMiB = 16 << 20;

class TunnelTest : public ::testing::Test {
 protected:
  // RoundTrip sends `size` random bytes while reading the echo, and compares hashes.
  static void RoundTrip(int fd, size_t size) {
    std::string data = RandomBytes(size);
    std::string expected = Sha256Hex(data);
    bool sent = false;
    std::thread writer([&] { sent = SendAll(fd, data, Millis(60000)); });
    std::string got = ReadAndHash(fd, size, Millis(60000));
    writer.join();
    EXPECT_TRUE(sent);
    EXPECT_EQ(got, expected);
  }

  World world_;
};

TEST_F(TunnelTest, ConnectByServiceNameEchoesSixteenMiBExactly) {
  auto echo = world_.EchoServer({"example.com"});
  world_.PublishTarget("xmpp-client", echo->port());
  world_.StartDeputy();
  auto tunnel = world_.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(tunnel.head.has_value());
  ASSERT_EQ(tunnel.head->status, 200);
  EXPECT_TRUE(tunnel.head->extra.empty());
  RoundTrip(tunnel.socket.fd(), kSixteenMiB);
  EXPECT_EQ(echo->last_sni(), "example.com");
}

TEST_F(TunnelTest, ConnectByPortMapsToTheServiceAndEchoes) {
  auto echo = world_.EchoServer({"example.com"});
  world_.PublishTarget("xmpp-client", echo->port());
  world_.config["services"] = {{"xmpp-client", 5222}};
  world_.StartDeputy();
  auto tunnel = world_.OpenTunnel("example.org:5222");
  ASSERT_TRUE(tunnel.head.has_value());
  ASSERT_EQ(tunnel.head->status, 200);
  RoundTrip(tunnel.socket.fd(), kSixteenMiB);
  EXPECT_EQ(world_.Fetches("xmpp-client"), 1);
}

TEST_F(TunnelTest, FixedListenerTunnelsFromTheFirstByte) {
  auto echo = world_.EchoServer({"example.com"});
  world_.PublishTarget("xmpp-client", echo->port());
  world_.config["listeners"].push_back({{"name", "xmpp"},
                                        {"type", "fixed"},
                                        {"address", "127.0.0.1:0"},
                                        {"domain", "example.org"},
                                        {"service", "xmpp-client"}});
  DeputyProcess& deputy = world_.StartDeputy();
  Socket client = ConnectTcp(deputy.Port("xmpp"));
  ASSERT_TRUE(client.valid());
  RoundTrip(client.fd(), kSixteenMiB);
  client.Close();
  ASSERT_TRUE(deputy.WaitForAccessLogLines(1, kDefaultTimeout));
  nlohmann::json line = deputy.AccessLog().at(0);
  EXPECT_EQ(line["listener"], "xmpp");
  EXPECT_EQ(line["result"], "ok");
  EXPECT_EQ(line["verified_name"], "example.com");
  EXPECT_EQ(line["bytes_upstream"], kSixteenMiB);
  EXPECT_EQ(line["bytes_downstream"], kSixteenMiB);
}

TEST_F(TunnelTest, EarlyDataIsForwardedAfterTheTunnelIsUp) {
  auto echo = world_.EchoServer({"example.com"});
  world_.PublishTarget("xmpp-client", echo->port());
  world_.StartDeputy();
  auto tunnel = world_.OpenTunnel("example.org:xmpp-client", "<stream:stream>");
  ASSERT_TRUE(tunnel.head.has_value());
  ASSERT_EQ(tunnel.head->status, 200);
  std::string echoed = tunnel.head->extra;
  if (echoed.size() < 15) {
    echoed += RecvExact(tunnel.socket.fd(), 15 - echoed.size()).data;
  }
  EXPECT_EQ(echoed, "<stream:stream>");
}

TEST_F(TunnelTest, ClientHalfCloseStillReceivesTheUpstreamReply) {
  // The upstream answers only after it has seen the client's end of stream.
  TlsServer upstream(world_.ca.Issue(CertOptions{{"example.com"}}), [](TlsConnection& conn) {
    std::string request;
    if (!conn.ReadUntilClose(&request)) return;
    conn.WriteAll("reply to " + request);
    conn.ShutdownWrite();
  });
  world_.PublishTarget("xmpp-client", upstream.port());
  world_.StartDeputy();
  auto tunnel = world_.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(tunnel.head.has_value());
  ASSERT_EQ(tunnel.head->status, 200);
  ASSERT_TRUE(SendAll(tunnel.socket.fd(), "question"));
  ASSERT_TRUE(ShutdownWrite(tunnel.socket.fd()));
  Received reply = RecvUntilClose(tunnel.socket.fd());
  EXPECT_EQ(reply.end, RecvEnd::kEof);
  EXPECT_EQ(tunnel.head->extra + reply.data, "reply to question");
}

TEST_F(TunnelTest, UpstreamHalfCloseStillCarriesClientBytes) {
  TlsServer upstream(world_.ca.Issue(CertOptions{{"example.com"}}),
                     SendThenHalfClose("server speaks first"));
  world_.PublishTarget("xmpp-client", upstream.port());
  world_.StartDeputy();
  auto tunnel = world_.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(tunnel.head.has_value());
  ASSERT_EQ(tunnel.head->status, 200);
  std::string got = tunnel.head->extra;
  Received rest =
      RecvExact(tunnel.socket.fd(), std::string("server speaks first").size() - got.size());
  got += rest.data;
  EXPECT_EQ(got, "server speaks first");
  // The upstream's end of stream reaches the client as a FIN...
  Received end = RecvSome(tunnel.socket.fd());
  EXPECT_EQ(end.end, RecvEnd::kEof);
  // ...while the client's direction still flows to the upstream.
  ASSERT_TRUE(SendAll(tunnel.socket.fd(), "client still talks"));
  EXPECT_TRUE(upstream.bytes_received().WaitFor(18));
}

TEST_F(TunnelTest, SlowReaderKeepsDeputyMemoryBounded) {
  constexpr size_t kBlock = 1 << 20;
  constexpr size_t kBlocks = 256;
  std::string block = RandomBytes(kBlock);
  Sha256Stream expected_hash;
  for (size_t i = 0; i < kBlocks; ++i) expected_hash.Update(block);
  std::string expected = expected_hash.HexDigest();

  TlsServer upstream(world_.ca.Issue(CertOptions{{"example.com"}}), [&block](TlsConnection& conn) {
    for (size_t i = 0; i < kBlocks; ++i) {
      if (!conn.WriteAll(block, Millis(120000))) return;
    }
    conn.ShutdownWrite();
  });
  world_.PublishTarget("xmpp-client", upstream.port());
  SmallAsanQuarantine small_quarantine;
  DeputyProcess& deputy = world_.StartDeputy();
  auto tunnel = world_.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(tunnel.head.has_value());
  ASSERT_EQ(tunnel.head->status, 200);
  long baseline_kib = deputy.RssKiB();

  Sha256Stream hash;
  hash.Update(tunnel.head->extra);
  size_t received = tunnel.head->extra.size();
  long peak_kib = baseline_kib;
  size_t reads = 0;
  while (received < kBlock * kBlocks) {
    Received chunk = RecvSome(tunnel.socket.fd(), Millis(30000), 256 * 1024);
    ASSERT_FALSE(chunk.data.empty()) << "tunnel ended after " << received << " bytes";
    received += chunk.data.size();
    hash.Update(chunk.data);
    // A slow reader: the upstream can produce far faster than this loop consumes.
    std::this_thread::sleep_for(std::chrono::microseconds(500));
    if (++reads % 32 == 0) peak_kib = std::max(peak_kib, deputy.RssKiB());
  }
  EXPECT_EQ(hash.HexDigest(), expected);
  // 256 MiB went through; deputy may hold its per-direction buffer and TLS records, not data.
  EXPECT_LT(peak_kib - baseline_kib, 32 * 1024)
      << "baseline " << baseline_kib << " KiB, peak " << peak_kib << " KiB";
}

}  // namespace
}  // namespace deputy::test
