// Through a real deputy process: a listener with proxy_protocol takes the client's address
// from a v1 or v2 header sent by a trusted peer (curl --haproxy-protocol, or raw bytes), uses
// it for `clients` rules and the access log, and closes and counts a connection whose header
// is missing, malformed, truncated, or comes from a peer outside proxy_protocol_from.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "integration/world.h"
#include "support/curl_client.h"
#include "support/metric_wait.h"

namespace deputy::test {
namespace {

const std::string kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);

// V2Tcp4 is a v2 PROXY header for a TCP connection from `a.b.c.d`:`port`.
std::string V2Tcp4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  std::string header = kV2Signature + std::string("\x21\x11\x00\x0c", 4);
  header += std::string{static_cast<char>(a),
                        static_cast<char>(b),
                        static_cast<char>(c),
                        static_cast<char>(d),
                        10,
                        0,
                        0,
                        1};
  header += std::string{static_cast<char>(port >> 8), static_cast<char>(port & 0xff), 0x0c, 0x38};
  return header;
}

class ProxyProtocolTest : public ::testing::Test {
 protected:
  ProxyProtocolTest() : echo_(world_.EchoServer({"example.com"})) {
    world_.Publish("greeting", "hello behind a balancer");
    world_.PublishTarget("xmpp-client", echo_->port());
    world_.config["listeners"][0]["proxy_protocol"] = true;
    world_.config["listeners"][0]["proxy_protocol_from"] = {"127.0.0.0/8"};
    // Only clients the balancer says are in 192.0.2.0/24 (and loopback, for curl) get through.
    world_.config["policy"]["rules"] = {
        {{"name", "lan"}, {"action", "allow"}, {"clients", {"192.0.2.0/24", "127.0.0.0/8"}}}};
  }

  // Exchange sends `bytes` (a header, then a CONNECT) and returns the response head.
  std::optional<HttpResponseHead> Exchange(const std::string& bytes) {
    Socket socket = ConnectTcp(world_.deputy->Port("connect"));
    if (!socket.valid() || !SendAll(socket.fd(), bytes)) return std::nullopt;
    return ReadHttpResponseHead(socket.fd());
  }

  double ProxyProtocolErrors() {
    return ScrapeMetric(
               world_.deputy->Port("admin"),
               "deputy_tunnels_total{listener=\"connect\",result=\"proxy_protocol_error\"}")
        .value_or(-1);
  }

  World world_;
  std::unique_ptr<TlsServer> echo_;
};

TEST_F(ProxyProtocolTest, CurlSendingAV1HeaderThroughAFixedListenerGetsThrough) {
  // curl --haproxy-protocol starts its connection with a v1 header, as a balancer would; a
  // fixed listener then carries its plain HTTP over the verified tunnel (example.org has no
  // "www-test" document, so deputy falls back to example.org's own port).
  world_.config["listeners"].push_back({{"name", "fixed"},
                                        {"type", "fixed"},
                                        {"address", "127.0.0.1:0"},
                                        {"domain", "example.org"},
                                        {"service", "www-test"},
                                        {"port", world_.well_known->port()},
                                        {"proxy_protocol", true},
                                        {"proxy_protocol_from", {"127.0.0.0/8"}}});
  world_.StartDeputy();
  CurlRun run =
      CurlThroughProxy(0,
                       "http://127.0.0.1:" + std::to_string(world_.deputy->Port("fixed")) +
                           World::kWellKnownPrefix + "greeting",
                       {"--haproxy-protocol"});
  EXPECT_EQ(run.exit_code, 0) << run.stderr_text;
  EXPECT_EQ(run.body, "hello behind a balancer");
  ASSERT_TRUE(world_.deputy->WaitForAccessLogLines(1));
  EXPECT_EQ(world_.deputy->AccessLog()[0]["listener"], "fixed");
  EXPECT_EQ(world_.deputy->AccessLog()[0]["result"], "ok");
}

TEST_F(ProxyProtocolTest, TheHeadersAddressIsTheClientForPolicyAndLog) {
  world_.StartDeputy();
  const std::string connect = ConnectRequest("example.org:xmpp-client");
  std::optional<HttpResponseHead> v1 =
      Exchange("PROXY TCP4 192.0.2.7 10.0.0.1 56324 3128\r\n" + connect);
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->status, 200);
  std::optional<HttpResponseHead> v2 = Exchange(V2Tcp4(192, 0, 2, 8, 4000) + connect);
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->status, 200);
  // Outside the rule's networks, as the header says, though the socket is loopback.
  ExpectRefusal(Exchange("PROXY TCP4 198.51.100.9 10.0.0.1 1000 3128\r\n" + connect), 403,
                "http_request_denied");
  ExpectRefusal(Exchange(V2Tcp4(203, 0, 113, 5, 1000) + connect), 403, "http_request_denied");
  // A LOCAL header (the balancer's own health check) keeps the socket's address.
  std::optional<HttpResponseHead> local =
      Exchange(kV2Signature + std::string("\x20\x00\x00\x00", 4) + connect);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->status, 200);

  // Sessions end in no fixed order (a tunnel's teardown races the next refusal): by client.
  ASSERT_TRUE(world_.deputy->WaitForAccessLogLines(5));
  std::map<std::string, std::string> result_by_client;
  for (const nlohmann::json& line : world_.deputy->AccessLog()) {
    std::string client = line["client"];
    if (client.rfind("127.0.0.1:", 0) == 0) client = "loopback";
    result_by_client[client] = line["result"];
  }
  EXPECT_EQ(result_by_client["192.0.2.7:56324"], "ok");
  EXPECT_EQ(result_by_client["192.0.2.8:4000"], "ok");
  EXPECT_EQ(result_by_client["198.51.100.9:1000"], "policy_denied");
  EXPECT_EQ(result_by_client["203.0.113.5:1000"], "policy_denied");
  EXPECT_EQ(result_by_client["loopback"], "ok");
}

TEST_F(ProxyProtocolTest, AHeaderFromAnUntrustedPeerIsClosedUnread) {
  world_.config["listeners"][0]["proxy_protocol_from"] = {"10.0.0.0/8"};
  world_.StartDeputy();
  Socket socket = ConnectTcp(world_.deputy->Port("connect"));
  ASSERT_TRUE(SendAll(socket.fd(), "PROXY TCP4 192.0.2.7 10.0.0.1 56324 3128\r\n" +
                                       ConnectRequest("example.org:xmpp-client")));
  EXPECT_EQ(RecvUntilClose(socket.fd()).data, "");
  ASSERT_TRUE(world_.deputy->WaitForAccessLogLines(1));
  EXPECT_EQ(world_.deputy->AccessLog()[0]["result"], "proxy_protocol_error");
  EXPECT_NE(world_.deputy->AccessLog()[0]["error"].get<std::string>().find("proxy_protocol_from"),
            std::string::npos);
  EXPECT_EQ(ProxyProtocolErrors(), 1);
  EXPECT_EQ(echo_->accepted().value(), 0u);
}

TEST_F(ProxyProtocolTest, AMissingMalformedTruncatedOrSlowHeaderIsClosedAndCounted) {
  world_.config["listeners"][0]["header_timeout_ms"] = 300;
  world_.StartDeputy();
  const std::string connect = ConnectRequest("example.org:xmpp-client");
  for (const std::string& bytes : {connect, std::string("PROXY TCP4 192.0.2.7\r\n") + connect,
                                   V2Tcp4(192, 0, 2, 7, 1).substr(0, 20)}) {
    Socket socket = ConnectTcp(world_.deputy->Port("connect"));
    ASSERT_TRUE(SendAll(socket.fd(), bytes));
    if (bytes.size() == 20) ASSERT_TRUE(ShutdownWrite(socket.fd()));
    EXPECT_EQ(RecvUntilClose(socket.fd()).data, "");
  }
  Socket slow = ConnectTcp(world_.deputy->Port("connect"));
  ASSERT_TRUE(SendAll(slow.fd(), "PROXY TCP4 "));
  EXPECT_EQ(RecvUntilClose(slow.fd()).data, "");
  ASSERT_TRUE(world_.deputy->WaitForAccessLogLines(4));
  for (const nlohmann::json& line : world_.deputy->AccessLog()) {
    EXPECT_EQ(line["result"], "proxy_protocol_error") << line;
  }
  EXPECT_EQ(ProxyProtocolErrors(), 4);
  EXPECT_EQ(echo_->accepted().value(), 0u);
}

TEST_F(ProxyProtocolTest, ASocks5ListenerTakesTheHeaderToo) {
  world_.config["listeners"].push_back({{"name", "socks"},
                                        {"type", "socks5"},
                                        {"address", "127.0.0.1:0"},
                                        {"proxy_protocol", true},
                                        {"proxy_protocol_from", {"127.0.0.1"}}});
  world_.config["services"] = {{"xmpp-client", 5222}};
  world_.StartDeputy();
  Socket socket = ConnectTcp(world_.deputy->Port("socks"));
  const std::string request = std::string("\x05\x01\x00", 3) +
                              std::string("\x05\x01\x00\x03\x0b", 5) + "example.org" +
                              std::string("\x14\x66", 2);
  ASSERT_TRUE(SendAll(socket.fd(), V2Tcp4(192, 0, 2, 9, 7000) + request));
  EXPECT_EQ(RecvExact(socket.fd(), 2).data, std::string("\x05\x00", 2));
  EXPECT_EQ(RecvExact(socket.fd(), 10).data.substr(0, 2), std::string("\x05\x00", 2));
  socket = Socket();
  ASSERT_TRUE(world_.deputy->WaitForAccessLogLines(1));
  EXPECT_EQ(world_.deputy->AccessLog()[0]["client"], "192.0.2.9:7000");
}

}  // namespace
}  // namespace deputy::test
