// Through a real deputy process: policy.rules decide, in order, who may ask for what, before
// any lookup is made; a refusal is a 403 that names the deciding rule, and every decision is
// counted by rule and action and shown in the access log.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "integration/world.h"
#include "support/metric_wait.h"

namespace deputy::test {
namespace {

class AccessPolicyTest : public ::testing::Test {
 protected:
  AccessPolicyTest() : echo_(world_.EchoServer({"example.com"})) {
    world_.PublishTarget("xmpp-client", echo_->port());
    world_.PublishTarget("xmpp-server", echo_->port());
  }

  // ExpectDenied expects 403 http_request_denied whose details contain `details`.
  void ExpectDenied(const std::string& authority, const std::string& details) {
    World::Opened opened = world_.OpenTunnel(authority);
    ExpectRefusal(opened.head, 403, "http_request_denied");
    if (!opened.head) return;
    std::string proxy_status = opened.head->Header("proxy-status").value_or("");
    EXPECT_NE(proxy_status.find(details), std::string::npos) << proxy_status;
  }

  double Decisions(DeputyProcess& deputy, const std::string& rule, const std::string& action) {
    return ScrapeMetric(deputy.Port("admin"), "deputy_policy_decisions_total{action=\"" + action +
                                                  "\",rule=\"" + rule + "\"}")
        .value_or(-1);
  }

  World world_;
  std::unique_ptr<TlsServer> echo_;
};

TEST_F(AccessPolicyTest, TheFirstMatchingRuleDecidesAndWhatNoRuleAllowsIsDenied) {
  world_.config["policy"]["rules"] = {
      {{"name", "no-subdomains"}, {"action", "deny"}, {"domains", {"*.example.org"}}},
      {{"name", "lan-xmpp"},
       {"action", "allow"},
       {"clients", {"127.0.0.0/8"}},
       {"listeners", {"connect"}},
       {"domains", {"example.org"}},
       {"services", {"xmpp-client"}}},
  };
  DeputyProcess& deputy = world_.StartDeputy();
  // Every rule's decision is exported from the start.
  EXPECT_EQ(Decisions(deputy, "lan-xmpp", "allow"), 0);
  EXPECT_EQ(Decisions(deputy, "no-subdomains", "deny"), 0);
  EXPECT_EQ(Decisions(deputy, "default", "deny"), 0);

  world_.ExpectTunnel("example.org:xmpp-client");
  ExpectDenied("chat.example.org:xmpp-client", "denied by policy rule \\\"no-subdomains\\\"");
  ExpectDenied("example.org:xmpp-server", "no policy rule allows this (policy.default is deny)");
  // Refused before the lookup: nothing was fetched for the denied service.
  EXPECT_EQ(world_.Fetches("xmpp-server"), 0);
  EXPECT_EQ(world_.Fetches("xmpp-client"), 1);

  EXPECT_EQ(Decisions(deputy, "lan-xmpp", "allow"), 1);
  EXPECT_EQ(Decisions(deputy, "no-subdomains", "deny"), 1);
  EXPECT_EQ(Decisions(deputy, "default", "deny"), 1);
  ASSERT_TRUE(deputy.WaitForAccessLogLines(3));
  // Lines are written as sessions end, which need not be the order they started in.
  std::map<std::string, nlohmann::json> by_request;
  for (const nlohmann::json& line : deputy.AccessLog()) {
    by_request[line["domain"].get<std::string>() + ":" + line["service"].get<std::string>()] = line;
  }
  EXPECT_EQ(by_request["example.org:xmpp-client"]["rule"], "lan-xmpp");
  EXPECT_EQ(by_request["example.org:xmpp-client"]["result"], "ok");
  EXPECT_EQ(by_request["chat.example.org:xmpp-client"]["rule"], "no-subdomains");
  EXPECT_EQ(by_request["chat.example.org:xmpp-client"]["result"], "policy_denied");
  EXPECT_EQ(by_request["example.org:xmpp-server"]["rule"], "default");
  EXPECT_EQ(by_request["example.org:xmpp-server"]["result"], "policy_denied");
  EXPECT_EQ(ScrapeMetric(deputy.Port("admin"),
                         "deputy_tunnels_total{listener=\"connect\",result=\"policy_denied\"}"),
            2);
}

TEST_F(AccessPolicyTest, AClientOutsideTheRulesNetworksIsDenied) {
  world_.config["policy"]["rules"] = {
      {{"name", "office"}, {"action", "allow"}, {"clients", {"192.168.0.0/16", "::1"}}},
  };
  world_.StartDeputy();
  ExpectDenied("example.org:xmpp-client", "policy.default is deny");
  EXPECT_EQ(world_.Fetches("xmpp-client"), 0);
}

TEST_F(AccessPolicyTest, ADefaultOfAllowLetsThroughWhatNoDenyRuleMatches) {
  world_.config["policy"]["rules"] = {
      {{"name", "no-s2s"}, {"action", "deny"}, {"services", {"xmpp-server"}}}};
  world_.config["policy"]["default"] = "allow";
  DeputyProcess& deputy = world_.StartDeputy();
  world_.ExpectTunnel("example.org:xmpp-client");
  ExpectDenied("example.org:xmpp-server", "denied by policy rule \\\"no-s2s\\\"");
  EXPECT_EQ(Decisions(deputy, "default", "allow"), 1);
}

TEST_F(AccessPolicyTest, ConnectPortsRefuseAPortListedNowhereBeforeAnyRule) {
  world_.config["policy"]["connect_ports"] = {5222, echo_->port()};
  world_.config["policy"]["rules"] = {{{"name", "everyone"}, {"action", "allow"}}};
  DeputyProcess& deputy = world_.StartDeputy();
  // 5222 is listed and maps to xmpp-client (/etc/services); 5269 (xmpp-server) is not.
  world_.ExpectTunnel("example.org:5222");
  world_.ExpectTunnel("example.org:xmpp-client");
  ExpectDenied("example.org:5269", "port 5269 is not in policy.connect_ports");
  ExpectDenied("example.org:xmpp-server", "port 5269 is not in policy.connect_ports");
  EXPECT_EQ(world_.Fetches("xmpp-server"), 0);
  EXPECT_EQ(Decisions(deputy, "connect_ports", "deny"), 2);
  EXPECT_EQ(Decisions(deputy, "everyone", "allow"), 2);
}

// The document picks the port deputy connects to, so connect_ports bounds it too: a domain
// cannot aim CONNECT clients at a port the operator did not list.
TEST_F(AccessPolicyTest, ConnectPortsAlsoBoundTheTargetsPorts) {
  world_.config["policy"]["connect_ports"] = {5222};
  DeputyProcess& deputy = world_.StartDeputy();
  ExpectDenied("example.org:5222",
               "example.org delegates only to ports outside policy.connect_ports (" +
                   std::to_string(echo_->port()) + ")");
  EXPECT_EQ(world_.Fetches("xmpp-client"), 1);
  EXPECT_EQ(echo_->accepted().value(), 0u);
  EXPECT_EQ(Decisions(deputy, "connect_ports", "deny"), 1);
}

TEST_F(AccessPolicyTest, PortRulesMatchThePortTheClientNamed) {
  world_.config["policy"]["rules"] = {
      {{"name", "xmpp-ports"}, {"action", "allow"}, {"ports", {"5222-5223"}}}};
  world_.StartDeputy();
  world_.ExpectTunnel("example.org:5222");
  ExpectDenied("example.org:5269", "policy.default is deny");
}

}  // namespace
}  // namespace deputy::test
