// Through a real deputy process and the real curl: a connect listener with auth tunnels only
// for a user of its users file (yescrypt, bcrypt, sha512-crypt), answers 407 with a Basic
// challenge otherwise, rate-limits an address that keeps failing, bounds the hashing work,
// re-reads the file on SIGHUP, and hands the user to the policy and the access log.
#include <openssl/base64.h>
#include <signal.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "integration/world.h"
#include "support/curl_client.h"
#include "support/metric_wait.h"
#include "support/password_hash.h"

namespace deputy::test {
namespace {

std::string Base64(const std::string& text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  const size_t n = EVP_EncodeBlock(reinterpret_cast<uint8_t*>(out.data()),
                                   reinterpret_cast<const uint8_t*>(text.data()), text.size());
  out.resize(n);
  return out;
}

std::string ConnectWithCredentials(const std::string& authority, const std::string& credentials) {
  return "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority +
         "\r\nProxy-Authorization: Basic " + Base64(credentials) + "\r\n\r\n";
}

class ProxyAuthTest : public ::testing::Test {
 protected:
  ProxyAuthTest() {
    world_.Publish("greeting", "hello through deputy");
    users_file_ = world_.dir.Write(
        "users", "# proxy users\n" + UsersFileText({{"alice", HashPassword("alice-pw", "$y$")},
                                                    {"bob", HashPassword("bob-pw", "$2b$", 5)},
                                                    {"carol", HashPassword("carol-pw", "$6$")}}));
    world_.config["listeners"][0]["auth"] = {{"type", "basic"}, {"users_file", users_file_}};
  }

  // Fetch asks, with curl through deputy, the well-known server (itself reached through the
  // verified tunnel, a direct fallback to example.org) for the published greeting.
  CurlRun Fetch(const std::vector<std::string>& extra) {
    return CurlThroughProxy(world_.deputy->Port("connect"),
                            "http://example.org:" + std::to_string(world_.well_known->port()) +
                                World::kWellKnownPrefix + "greeting",
                            extra);
  }

  double Authentications(const std::string& result) {
    return ScrapeMetric(
               world_.deputy->Port("admin"),
               "deputy_proxy_authentications_total{listener=\"connect\",result=\"" + result + "\"}")
        .value_or(-1);
  }

  std::optional<HttpResponseHead> Request(const std::string& request) {
    Socket socket = ConnectTcp(world_.deputy->Port("connect"));
    if (!socket.valid() || !SendAll(socket.fd(), request)) return std::nullopt;
    return ReadHttpResponseHead(socket.fd());
  }

  World world_;
  std::string users_file_;
};

TEST_F(ProxyAuthTest, CurlWithTheRightPasswordGetsThroughForEveryHashMethod) {
  world_.StartDeputy();
  for (const char* credentials : {"alice:alice-pw", "bob:bob-pw", "carol:carol-pw"}) {
    CurlRun run = Fetch({"--proxy-user", credentials});
    EXPECT_EQ(run.connect_status, 200) << credentials << ": " << run.stderr_text;
    EXPECT_EQ(run.exit_code, 0) << run.stderr_text;
    EXPECT_EQ(run.body, "hello through deputy");
  }
  ASSERT_TRUE(world_.deputy->WaitForAccessLogLines(3));
  const std::vector<nlohmann::json> log = world_.deputy->AccessLog();
  EXPECT_EQ(log[0]["user"], "alice");
  EXPECT_EQ(log[0]["result"], "ok");
  EXPECT_EQ(log[2]["user"], "carol");
  EXPECT_EQ(Authentications("ok"), 3);
  // The fixture's file mixes yescrypt, bcrypt and sha512-crypt on purpose.
  EXPECT_TRUE(world_.deputy->WaitForStderr("mixes hash methods or costs"));
}

TEST_F(ProxyAuthTest, MissingOrWrongCredentialsGet407WithABasicChallenge) {
  world_.StartDeputy();
  EXPECT_EQ(Fetch({}).connect_status, 407);
  EXPECT_EQ(Fetch({"--proxy-user", "alice:wrong"}).connect_status, 407);
  EXPECT_EQ(Fetch({"--proxy-user", "mallory:alice-pw"}).connect_status, 407);
  // Right password, other user's: still refused.
  EXPECT_EQ(Fetch({"--proxy-user", "bob:alice-pw"}).connect_status, 407);

  std::optional<HttpResponseHead> missing = Request(ConnectRequest("example.org:xmpp-client"));
  ExpectRefusal(missing, 407, "http_request_denied");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->Header("proxy-authenticate").value_or(""), "Basic realm=\"deputy\"");
  std::optional<HttpResponseHead> wrong =
      Request(ConnectWithCredentials("example.org:xmpp-client", "alice:nope"));
  ExpectRefusal(wrong, 407, "http_request_denied");
  ASSERT_TRUE(wrong);
  EXPECT_NE(wrong->Header("proxy-status").value_or("").find("wrong user name or password"),
            std::string::npos);
  EXPECT_EQ(wrong->Header("proxy-authenticate").value_or(""), "Basic realm=\"deputy\"");

  ASSERT_TRUE(world_.deputy->WaitForAccessLogLines(6));
  const std::vector<nlohmann::json> log = world_.deputy->AccessLog();
  EXPECT_EQ(log[0]["result"], "auth_required");
  EXPECT_EQ(log[1]["result"], "auth_failed");
  EXPECT_FALSE(log[1].contains("user")) << "only an authenticated user is logged as the user";
  EXPECT_EQ(Authentications("failed"), 4);
  EXPECT_EQ(world_.well_known->Requests(std::string(World::kWellKnownPrefix) + "greeting"), 0);
}

TEST_F(ProxyAuthTest, MalformedOrForeignCredentialsAreRefusedWithAReason) {
  world_.StartDeputy();
  const std::string authority = "example.org:xmpp-client";
  std::optional<HttpResponseHead> bearer =
      Request("CONNECT " + authority + " HTTP/1.1\r\nProxy-Authorization: Bearer abc\r\n\r\n");
  ExpectRefusal(bearer, 407, "http_request_denied");
  std::optional<HttpResponseHead> garbage =
      Request("CONNECT " + authority + " HTTP/1.1\r\nProxy-Authorization: Basic ***\r\n\r\n");
  ExpectRefusal(garbage, 400, "http_request_error");
  std::optional<HttpResponseHead> twice = Request(
      "CONNECT " + authority + " HTTP/1.1\r\nProxy-Authorization: Basic " + Base64("alice:a") +
      "\r\nProxy-Authorization: Basic " + Base64("alice:alice-pw") + "\r\n\r\n");
  ExpectRefusal(twice, 400, "http_request_error");
}

TEST_F(ProxyAuthTest, AnAddressThatKeepsFailingIsRefusedUncheckedFor429) {
  world_.config["auth"] = {{"max_failures", 3}, {"failure_window_s", 600}};
  world_.StartDeputy();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Fetch({"--proxy-user", "alice:guess" + std::to_string(i)}).connect_status, 407);
  }
  // Even the right password now waits out the window: the address is not checked at all.
  EXPECT_EQ(Fetch({"--proxy-user", "alice:alice-pw"}).connect_status, 429);
  std::optional<HttpResponseHead> limited =
      Request(ConnectWithCredentials("example.org:xmpp-client", "alice:alice-pw"));
  ExpectRefusal(limited, 429, "http_request_denied");
  ASSERT_TRUE(limited);
  EXPECT_NE(limited->Header("proxy-status").value_or("").find("retry in"), std::string::npos);
  EXPECT_EQ(Authentications("rate_limited"), 2);
  EXPECT_EQ(Authentications("failed"), 3);
}

TEST_F(ProxyAuthTest, AVerifiedPasswordIsRememberedAndNotHashedAgain) {
  world_.StartDeputy();
  EXPECT_EQ(Fetch({"--proxy-user", "alice:alice-pw"}).connect_status, 200);
  EXPECT_EQ(Fetch({"--proxy-user", "alice:alice-pw"}).connect_status, 200);
  EXPECT_EQ(Fetch({"--proxy-user", "alice:alice-pw"}).connect_status, 200);
  EXPECT_EQ(Authentications("ok"), 1);
  EXPECT_EQ(Authentications("cached"), 2);
  // A wrong password is never answered from the cache.
  EXPECT_EQ(Fetch({"--proxy-user", "alice:alice-pw2"}).connect_status, 407);
}

TEST_F(ProxyAuthTest, HashingWorkIsBoundedAndTimed) {
  // One slow bcrypt at a time and none waiting: a second check while one runs is refused.
  world_.dir.Write("users", UsersFileText({{"slow", HashPassword("slow-pw", "$2b$", 14)},
                                           {"quick", HashPassword("quick-pw", "$2b$", 5)}}));
  world_.config["auth"] = {
      {"max_checks_running", 1}, {"max_checks_waiting", 0}, {"check_timeout_ms", 60000}};
  world_.StartDeputy();
  Socket first = ConnectTcp(world_.deputy->Port("connect"));
  ASSERT_TRUE(
      SendAll(first.fd(), ConnectWithCredentials("example.org:xmpp-client", "slow:slow-pw")));
  ASSERT_TRUE(WaitForMetricAtLeast(world_.deputy->Port("admin"),
                                   "deputy_proxy_auth_checks{state=\"running\"}", 1));
  std::optional<HttpResponseHead> second =
      Request(ConnectWithCredentials("example.org:xmpp-client", "quick:quick-pw"));
  ExpectRefusal(second, 503, "connection_limit_reached");
  EXPECT_EQ(Authentications("overloaded"), 1);
  // The first is not hurt: its check finishes and the policy and lookup go on (no such
  // service is published, so the fallback's connect to example.org's port fails).
  std::optional<HttpResponseHead> answer = ReadHttpResponseHead(first.fd(), Millis(60000));
  ASSERT_TRUE(answer);
  EXPECT_NE(answer->status, 407);
  EXPECT_NE(answer->status, 503);
  EXPECT_EQ(Authentications("ok"), 1);
}

TEST_F(ProxyAuthTest, ACheckThatTakesTooLongIsRefused) {
  world_.dir.Write("users", UsersFileText({{"slow", HashPassword("slow-pw", "$2b$", 14)}}));
  world_.config["auth"] = {{"check_timeout_ms", 1}};
  world_.StartDeputy();
  std::optional<HttpResponseHead> answer =
      Request(ConnectWithCredentials("example.org:xmpp-client", "slow:slow-pw"));
  ExpectRefusal(answer, 503, "connection_limit_reached");
  ASSERT_TRUE(answer);
  EXPECT_NE(answer->Header("proxy-status").value_or("").find("did not finish within 1 ms"),
            std::string::npos);
  EXPECT_EQ(Authentications("overloaded"), 1);
}

TEST_F(ProxyAuthTest, SighupRereadsTheUsersFileAndABadOneFailsTheReloadKeepingTheOldUsers) {
  world_.StartDeputy();
  EXPECT_EQ(Fetch({"--proxy-user", "alice:alice-pw"}).connect_status, 200);
  world_.dir.Write("users", UsersFileText({{"dave", HashPassword("dave-pw")}}));
  ASSERT_EQ(kill(world_.deputy->pid(), SIGHUP), 0);
  ASSERT_TRUE(world_.deputy->WaitForStderr("users file " + users_file_ + " read, 1 users"));
  ASSERT_TRUE(world_.deputy->WaitForStderr("(configuration 2)"));
  EXPECT_EQ(Fetch({"--proxy-user", "dave:dave-pw"}).connect_status, 200);
  EXPECT_EQ(Fetch({"--proxy-user", "alice:alice-pw"}).connect_status, 407)
      << "a user taken out of the file is out, even with a remembered password";

  world_.dir.Write("users", "dave\n");
  ASSERT_EQ(kill(world_.deputy->pid(), SIGHUP), 0);
  ASSERT_TRUE(world_.deputy->WaitForStderr("configuration 2 stays in force"));
  EXPECT_EQ(Fetch({"--proxy-user", "dave:dave-pw"}).connect_status, 200);
  EXPECT_EQ(ScrapeMetric(world_.deputy->Port("admin"),
                         "deputy_users_file_loads_total{listener=\"connect\",result=\"error\"}"),
            1);
  EXPECT_EQ(ScrapeMetric(world_.deputy->Port("admin"), "deputy_proxy_users{listener=\"connect\"}"),
            1);
}

TEST_F(ProxyAuthTest, PolicyRulesMatchTheAuthenticatedUser) {
  world_.config["policy"]["rules"] = {
      {{"name", "alice-only"}, {"action", "allow"}, {"users", {"alice"}}}};
  world_.StartDeputy();
  EXPECT_EQ(Fetch({"--proxy-user", "alice:alice-pw"}).connect_status, 200);
  EXPECT_EQ(Fetch({"--proxy-user", "bob:bob-pw"}).connect_status, 403);
  ASSERT_TRUE(world_.deputy->WaitForAccessLogLines(2));
  const std::vector<nlohmann::json> log = world_.deputy->AccessLog();
  EXPECT_EQ(log[0]["rule"], "alice-only");
  EXPECT_EQ(log[1]["user"], "bob");
  EXPECT_EQ(log[1]["rule"], "default");
  EXPECT_EQ(log[1]["result"], "policy_denied");
}

TEST_F(ProxyAuthTest, ABadUsersFileStopsDeputyFromStartingAndFailsCheck) {
  world_.dir.Write("users", "alice:$1$legacy$hash\n");
  DeputyProcess deputy(world_.config);
  std::string error;
  EXPECT_FALSE(deputy.Start(&error));
  EXPECT_TRUE(deputy.WaitForStderr("is a legacy hash")) << deputy.Stderr();
  const std::string config = world_.dir.Write("deputy.json", world_.config.dump());
  RunResult check = DeputyProcess::RunCommand({"check", "-c", config});
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.stderr_text.find(users_file_ + " line 1: the hash of \"alice\""),
            std::string::npos)
      << check.stderr_text;
}

}  // namespace
}  // namespace deputy::test
