// Through a real deputy process, a socks5 listener: curl --socks5-hostname tunnels through
// it (with and without username/password), the reply code says why a request was refused,
// only names are accepted as destinations, and pipelined bytes wait for the verified upstream.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "integration/world.h"
#include "support/curl_client.h"
#include "support/password_hash.h"
#include "support/socks5_bytes.h"
#include "support/tcp_server.h"

namespace deputy::test {
namespace {

class Socks5Test : public ::testing::Test {
 protected:
  Socks5Test() : echo_(world_.EchoServer({"example.com"})) {
    world_.Publish("greeting", "hello through socks");
    world_.PublishTarget("xmpp-client", echo_->port());
    world_.config["listeners"].push_back(
        {{"name", "socks"}, {"type", "socks5"}, {"address", "127.0.0.1:0"}});
    world_.config["services"] = {{"xmpp-client", 5222}};
  }

  void RequireAuth() {
    const std::string users =
        world_.dir.Write("users", UsersFileText({{"alice", HashPassword("alice-pw")}}));
    world_.config["listeners"][1]["auth"] = {{"type", "basic"}, {"users_file", users}};
  }

  CurlRun Fetch(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"--socks5-hostname",
                                     "127.0.0.1:" + std::to_string(world_.deputy->Port("socks"))};
    args.insert(args.end(), extra.begin(), extra.end());
    return CurlThroughProxy(0, GreetingUrl(), args);
  }

  std::string GreetingUrl() const {
    return "http://example.org:" + std::to_string(world_.well_known->port()) +
           World::kWellKnownPrefix + "greeting";
  }

  // Negotiate opens a connection and completes the no-auth greeting.
  Socket Negotiate() {
    Socket socket = ConnectTcp(world_.deputy->Port("socks"));
    EXPECT_TRUE(SendAll(socket.fd(), Bytes({5, 1, 0})));
    EXPECT_EQ(RecvExact(socket.fd(), 2).data, Bytes({5, 0}));
    return socket;
  }

  // ReplyCode sends `request` after the greeting and returns the reply's code byte.
  int ReplyCode(const std::string& request) {
    Socket socket = Negotiate();
    EXPECT_TRUE(SendAll(socket.fd(), request));
    const std::string reply = RecvExact(socket.fd(), 10).data;
    if (reply.size() != 10) return -1;
    EXPECT_EQ(reply.substr(2), Bytes({0, 1, 0, 0, 0, 0, 0, 0}));
    return static_cast<uint8_t>(reply[1]);
  }

  World world_;
  std::unique_ptr<TlsServer> echo_;
};

TEST_F(Socks5Test, CurlWithSocks5HostnameTunnelsToTheNamedDomain) {
  world_.StartDeputy();
  CurlRun run = Fetch({});
  EXPECT_EQ(run.exit_code, 0) << run.stderr_text;
  EXPECT_EQ(run.body, "hello through socks");
  // The URL form of the same thing.
  CurlRun url_form = CurlThroughProxy(
      0, GreetingUrl(),
      {"--proxy", "socks5h://127.0.0.1:" + std::to_string(world_.deputy->Port("socks"))});
  EXPECT_EQ(url_form.exit_code, 0) << url_form.stderr_text;
  EXPECT_EQ(url_form.body, "hello through socks");
  ASSERT_TRUE(world_.deputy->WaitForAccessLogLines(2));
  EXPECT_EQ(world_.deputy->AccessLog()[0]["listener"], "socks");
  EXPECT_EQ(world_.deputy->AccessLog()[0]["result"], "ok");
}

TEST_F(Socks5Test, WithAuthOnlyAUserOfTheUsersFileGetsThrough) {
  RequireAuth();
  world_.StartDeputy();
  CurlRun right = Fetch({"--proxy-user", "alice:alice-pw"});
  EXPECT_EQ(right.exit_code, 0) << right.stderr_text;
  EXPECT_EQ(right.body, "hello through socks");
  EXPECT_NE(Fetch({"--proxy-user", "alice:wrong"}).exit_code, 0);
  EXPECT_NE(Fetch({}).exit_code, 0);

  {
    // A client offering only "no authentication" is told no method is acceptable.
    Socket no_auth = ConnectTcp(world_.deputy->Port("socks"));
    ASSERT_TRUE(SendAll(no_auth.fd(), Bytes({5, 1, 0})));
    EXPECT_EQ(RecvExact(no_auth.fd(), 2).data, Bytes({5, 0xff}));
  }
  {
    // Wrong credentials get the RFC 1929 failure status.
    Socket wrong = ConnectTcp(world_.deputy->Port("socks"));
    ASSERT_TRUE(SendAll(wrong.fd(), Bytes({5, 2, 0, 2})));
    EXPECT_EQ(RecvExact(wrong.fd(), 2).data, Bytes({5, 2}));
    ASSERT_TRUE(SendAll(wrong.fd(), Bytes({1, 5}) + "alice" + Bytes({3}) + "bad"));
    EXPECT_EQ(RecvExact(wrong.fd(), 2).data, Bytes({1, 1}));
  }

  ASSERT_TRUE(world_.deputy->WaitForAccessLogLines(5));
  const std::vector<nlohmann::json> log = world_.deputy->AccessLog();
  EXPECT_EQ(log[0]["user"], "alice");
  EXPECT_EQ(log[1]["result"], "auth_failed");
  EXPECT_EQ(log[3]["result"], "auth_required");
}

TEST_F(Socks5Test, OnlyConnectToANameIsServedAndTheReplySaysWhy) {
  world_.StartDeputy();
  // IPv4 and IPv6 literals, and a literal spelled as a name: deputy needs a name to look up.
  EXPECT_EQ(ReplyCode(Bytes({5, 1, 0, 1, 127, 0, 0, 1, 0x14, 0x66})), 0x08);
  EXPECT_EQ(
      ReplyCode(Bytes({5, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x14, 0x66})),
      0x08);
  EXPECT_EQ(ReplyCode(Socks5ConnectByName("127.0.0.1", 5222)), 0x08);
  EXPECT_EQ(ReplyCode(Bytes({5, 1, 0, 9, 0, 0})), 0x08);
  // BIND and UDP ASSOCIATE.
  EXPECT_EQ(ReplyCode(Socks5ConnectByName("example.org", 5222, 2)), 0x07);
  EXPECT_EQ(ReplyCode(Socks5ConnectByName("example.org", 5222, 3)), 0x07);
  EXPECT_EQ(ReplyCode(Socks5ConnectByName("bad..name", 5222)), 0x01);
  EXPECT_EQ(echo_->accepted().value(), 0u);
}

TEST_F(Socks5Test, RefusalsMapToReplyCodes) {
  uint16_t closed_port = 0;
  Socket reserved = ReserveClosedPort(&closed_port);
  TcpServer silent(TcpServer::HoldOpen());
  world_.Publish(
      "refused",
      nlohmann::json::array({World::Entry("xmpp.example.com", closed_port, "example.com")}).dump());
  world_.Publish("silent", nlohmann::json::array(
                               {World::Entry("xmpp.example.com", silent.port(), "example.com")})
                               .dump());
  world_.config["services"] = {{"xmpp-client", 5222}, {"refused", 6001}, {"silent", 6002}};
  world_.config["upstream"]["handshake_timeout_ms"] = 300;
  world_.config["policy"]["rules"] = {
      {{"name", "no-net"}, {"action", "deny"}, {"domains", {"example.net"}}},
      {{"name", "rest"}, {"action", "allow"}}};
  world_.StartDeputy();
  EXPECT_EQ(ReplyCode(Socks5ConnectByName("example.net", 5222)), 0x02);
  EXPECT_EQ(ReplyCode(Socks5ConnectByName("example.org", 6001)), 0x05);
  EXPECT_EQ(ReplyCode(Socks5ConnectByName("example.org", 6002)), 0x06);
  ASSERT_TRUE(world_.deputy->WaitForAccessLogLines(3));
  const std::vector<nlohmann::json> log = world_.deputy->AccessLog();
  EXPECT_EQ(log[0]["result"], "policy_denied");
  EXPECT_EQ(log[1]["result"], "connection_refused");
  EXPECT_EQ(log[2]["result"], "connection_timeout");
}

TEST_F(Socks5Test, PipelinedBytesWaitForTheVerifiedUpstream) {
  world_.StartDeputy();
  Socket socket = ConnectTcp(world_.deputy->Port("socks"));
  // Greeting, request and the first application bytes in one write.
  ASSERT_TRUE(
      SendAll(socket.fd(), Bytes({5, 1, 0}) + Socks5ConnectByName("example.org", 5222) + "ping"));
  EXPECT_EQ(RecvExact(socket.fd(), 2).data, Bytes({5, 0}));
  EXPECT_EQ(RecvExact(socket.fd(), 10).data, Bytes({5, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(RecvExact(socket.fd(), 4).data, "ping");
}

TEST_F(Socks5Test, WithAuthEverythingInOneWriteStillGetsThrough) {
  // Greeting, longest credentials, request and 2 KiB of early data at once, as a client that
  // does not wait for answers sends them: nothing is refused, nothing is lost.
  const std::string user(255, 'u');
  const std::string password(255, 'p');
  const std::string users =
      world_.dir.Write("users", UsersFileText({{user, HashPassword(password)}}));
  world_.config["listeners"][1]["auth"] = {{"type", "basic"}, {"users_file", users}};
  world_.StartDeputy();
  const std::string early(2048, 'e');
  Socket socket = ConnectTcp(world_.deputy->Port("socks"));
  ASSERT_TRUE(SendAll(socket.fd(), Bytes({5, 1, 2}) + Bytes({1, 255}) + user + Bytes({255}) +
                                       password + Socks5ConnectByName("example.org", 5222) +
                                       early));
  EXPECT_EQ(RecvExact(socket.fd(), 2).data, Bytes({5, 2}));
  EXPECT_EQ(RecvExact(socket.fd(), 2).data, Bytes({1, 0}));
  EXPECT_EQ(RecvExact(socket.fd(), 10).data, Bytes({5, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(RecvExact(socket.fd(), early.size()).data, early);
}

TEST_F(Socks5Test, PipelinedBytesNeverReachAnUnverifiedUpstream) {
  std::unique_ptr<TlsServer> impostor = world_.EchoServer({"impostor.example"});
  world_.PublishTarget("xmpp-client", impostor->port());
  world_.StartDeputy();
  Socket socket = ConnectTcp(world_.deputy->Port("socks"));
  ASSERT_TRUE(
      SendAll(socket.fd(), Bytes({5, 1, 0}) + Socks5ConnectByName("example.org", 5222) + "ping"));
  EXPECT_EQ(RecvExact(socket.fd(), 2).data, Bytes({5, 0}));
  const std::string reply = RecvExact(socket.fd(), 10).data;
  ASSERT_EQ(reply.size(), 10u);
  EXPECT_EQ(static_cast<uint8_t>(reply[1]), 0x01);
  EXPECT_EQ(RecvUntilClose(socket.fd()).data, "");
  ASSERT_TRUE(world_.deputy->WaitForAccessLogLines(1));
  EXPECT_EQ(world_.deputy->AccessLog()[0]["result"], "tls_certificate_error");
}

TEST_F(Socks5Test, AMalformedSlowOrTruncatedNegotiationIsClosed) {
  world_.config["listeners"][1]["header_timeout_ms"] = 1000;
  world_.StartDeputy();
  Socket socks4 = ConnectTcp(world_.deputy->Port("socks"));
  ASSERT_TRUE(SendAll(socks4.fd(), Bytes({4, 1, 0x14, 0x66, 127, 0, 0, 1, 0})));
  EXPECT_EQ(RecvUntilClose(socks4.fd()).data, "");
  Socket truncated = ConnectTcp(world_.deputy->Port("socks"));
  ASSERT_TRUE(SendAll(truncated.fd(), Bytes({5, 3, 0})));
  ASSERT_TRUE(ShutdownWrite(truncated.fd()));
  EXPECT_EQ(RecvUntilClose(truncated.fd()).data, "");
  // The timeout covers the whole negotiation: a request never sent ends it with TTL expired.
  Socket slow = Negotiate();
  EXPECT_EQ(RecvUntilClose(slow.fd()).data, Bytes({5, 6, 0, 1, 0, 0, 0, 0, 0, 0}));
  ASSERT_TRUE(world_.deputy->WaitForAccessLogLines(3));
  for (const nlohmann::json& line : world_.deputy->AccessLog()) {
    EXPECT_TRUE(line["result"] == "bad_request" || line["result"] == "request_timeout") << line;
  }
}

}  // namespace
}  // namespace deputy::test
