#include "policy/access_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace deputy {
namespace {

IpAddress Address(const std::string& text) {
  Result<IpNetwork> network = ParseIpNetwork(text);
  EXPECT_TRUE(network.ok()) << text;
  return network.ok() ? network->base : IpAddress{};
}

std::vector<IpNetwork> Networks(std::initializer_list<const char*> texts) {
  std::vector<IpNetwork> networks;
  for (const char* text : texts) networks.push_back(*ParseIpNetwork(text));
  return networks;
}

PolicyRule Rule(std::string name, PolicyAction action) {
  PolicyRule rule;
  rule.name = std::move(name);
  rule.action = action;
  return rule;
}

// A request from 10.1.2.3 on listener "egress" for example.org:xmpp-client (port 5222).
AccessRequest Request() {
  static const IpAddress client = Address("10.1.2.3");
  AccessRequest request;
  request.client = client;
  request.listener = "egress";
  request.domain = "example.org";
  request.service = "xmpp-client";
  request.port = 5222;
  return request;
}

std::string_view RuleFor(const PolicyConfig& config, const AccessRequest& request) {
  return AccessPolicy(config).Decide(request).rule;
}

TEST(AccessPolicy, WithoutRulesEverythingIsAllowedByDefault) {
  PolicyConfig config;
  AccessDecision decision = AccessPolicy(config).Decide(Request());
  EXPECT_EQ(decision.action, PolicyAction::kAllow);
  EXPECT_EQ(decision.rule, kDefaultRule);
}

TEST(AccessPolicy, WithRulesWhatNoRuleMatchesIsDenied) {
  PolicyConfig config;
  config.rules.push_back(Rule("other-listener", PolicyAction::kAllow));
  config.rules.back().listeners = std::vector<std::string>{"internal"};
  AccessDecision decision = AccessPolicy(config).Decide(Request());
  EXPECT_EQ(decision.action, PolicyAction::kDeny);
  EXPECT_EQ(decision.rule, kDefaultRule);
  config.default_action = PolicyAction::kAllow;
  EXPECT_EQ(AccessPolicy(config).Decide(Request()).action, PolicyAction::kAllow);
}

TEST(AccessPolicy, TheFirstMatchingRuleDecides) {
  PolicyConfig config;
  config.rules.push_back(Rule("deny-redis", PolicyAction::kDeny));
  config.rules.back().services = std::vector<std::string>{"redis"};
  config.rules.push_back(Rule("allow-xmpp", PolicyAction::kAllow));
  config.rules.back().services = std::vector<std::string>{"xmpp-client"};
  config.rules.push_back(Rule("deny-all", PolicyAction::kDeny));
  AccessDecision decision = AccessPolicy(config).Decide(Request());
  EXPECT_EQ(decision.rule, "allow-xmpp");
  EXPECT_EQ(decision.action, PolicyAction::kAllow);
  // Swapping the order lets the catch-all decide first.
  std::swap(config.rules[1], config.rules[2]);
  EXPECT_EQ(RuleFor(config, Request()), "deny-all");
}

TEST(AccessPolicy, ARuleMatchesOnlyWhenEveryMatcherItHasMatches) {
  PolicyConfig config;
  config.rules.push_back(Rule("both", PolicyAction::kAllow));
  config.rules.back().domains = std::vector<std::string>{"example.org"};
  config.rules.back().ports = std::vector<PortRange>{{443, 443}};
  EXPECT_EQ(RuleFor(config, Request()), kDefaultRule) << "the domain matches, the port does not";
  config.rules.back().ports = std::vector<PortRange>{{443, 443}, {5000, 5999}};
  EXPECT_EQ(RuleFor(config, Request()), "both") << "any alternative of a matcher will do";
}

TEST(AccessPolicy, ClientsMatchByNetworkIncludingIpv4MappedAddresses) {
  PolicyConfig config;
  config.rules.push_back(Rule("ten", PolicyAction::kAllow));
  config.rules.back().clients = Networks({"192.168.0.0/16", "10.0.0.0/8"});
  EXPECT_EQ(RuleFor(config, Request()), "ten");
  AccessRequest mapped = Request();
  mapped.client = Address("::ffff:10.9.9.9");
  EXPECT_EQ(RuleFor(config, mapped), "ten");
  AccessRequest outside = Request();
  outside.client = Address("11.0.0.1");
  EXPECT_EQ(RuleFor(config, outside), kDefaultRule);
  AccessRequest unknown = Request();
  unknown.client.reset();
  EXPECT_EQ(RuleFor(config, unknown), kDefaultRule) << "no address matches no network";
  config.rules.back().clients = Networks({"fd00::/8"});
  AccessRequest v6 = Request();
  v6.client = Address("fd12::1");
  EXPECT_EQ(RuleFor(config, v6), "ten");
}

TEST(AccessPolicy, DomainsMatchExactlyOrAsProperSubdomainsOfAWildcard) {
  PolicyConfig config;
  config.rules.push_back(Rule("subdomains", PolicyAction::kAllow));
  config.rules.back().domains = std::vector<std::string>{"*.example.org"};
  AccessRequest request = Request();
  EXPECT_EQ(RuleFor(config, request), kDefaultRule) << "*.example.org is not example.org";
  request.domain = "chat.example.org";
  EXPECT_EQ(RuleFor(config, request), "subdomains");
  request.domain = "a.b.example.org";
  EXPECT_EQ(RuleFor(config, request), "subdomains");
  request.domain = "badexample.org";
  EXPECT_EQ(RuleFor(config, request), kDefaultRule) << "a suffix is not a subdomain";
  config.rules.back().domains = std::vector<std::string>{"example.org"};
  request.domain = "example.org";
  EXPECT_EQ(RuleFor(config, request), "subdomains");
  request.domain = "chat.example.org";
  EXPECT_EQ(RuleFor(config, request), kDefaultRule) << "an exact domain has no subdomains";
}

TEST(AccessPolicy, ListenersServicesAndPortsMatchExactly) {
  PolicyConfig config;
  config.rules.push_back(Rule("listener", PolicyAction::kAllow));
  config.rules.back().listeners = std::vector<std::string>{"egress"};
  EXPECT_EQ(RuleFor(config, Request()), "listener");
  config.rules.back().listeners = std::vector<std::string>{"egress-2"};
  EXPECT_EQ(RuleFor(config, Request()), kDefaultRule);

  config.rules.back().listeners.reset();
  config.rules.back().services = std::vector<std::string>{"xmpp-server", "xmpp-client"};
  EXPECT_EQ(RuleFor(config, Request()), "listener");
  config.rules.back().services = std::vector<std::string>{"imaps"};
  EXPECT_EQ(RuleFor(config, Request()), kDefaultRule);

  config.rules.back().services.reset();
  config.rules.back().ports = std::vector<PortRange>{{5222, 5222}};
  EXPECT_EQ(RuleFor(config, Request()), "listener");
  config.rules.back().ports = std::vector<PortRange>{{5223, 6000}};
  EXPECT_EQ(RuleFor(config, Request()), kDefaultRule);
}

TEST(AccessPolicy, UsersAndIdentitiesNeverMatchAnAnonymousClient) {
  PolicyConfig config;
  config.rules.push_back(Rule("alice", PolicyAction::kAllow));
  config.rules.back().users = std::vector<std::string>{"alice"};
  config.rules.push_back(Rule("workload", PolicyAction::kAllow));
  config.rules.back().identities = std::vector<std::string>{"spiffe://cluster.local/*"};
  EXPECT_EQ(RuleFor(config, Request()), kDefaultRule);

  AccessRequest alice = Request();
  alice.user = "alice";
  EXPECT_EQ(RuleFor(config, alice), "alice");
  alice.user = "alicia";
  EXPECT_EQ(RuleFor(config, alice), kDefaultRule);

  std::vector<std::string> identities = {"dns:client.example.com",
                                         "spiffe://cluster.local/ns/a/sa/b"};
  AccessRequest workload = Request();
  workload.identities = &identities;
  EXPECT_EQ(RuleFor(config, workload), "workload");
  identities = {"spiffe://cluster.local.evil/ns/a"};
  EXPECT_EQ(RuleFor(config, workload), kDefaultRule) << "another trust domain";
  identities = {"spiffe://cluster.local/"};
  EXPECT_EQ(RuleFor(config, workload), kDefaultRule) << "the trust domain itself is no workload";
  config.rules.back().identities = std::vector<std::string>{"spiffe://cluster.local/ns/a/sa/b"};
  identities = {"spiffe://cluster.local/ns/a/sa/b"};
  EXPECT_EQ(RuleFor(config, workload), "workload");
  identities = {"spiffe://cluster.local/ns/a/sa/bb"};
  EXPECT_EQ(RuleFor(config, workload), kDefaultRule) << "an exact identity is exact";
}

TEST(AccessPolicy, ConnectPortsBoundWhatAClientMayNameOnlyWhenSet) {
  PolicyConfig config;
  EXPECT_TRUE(AccessPolicy(config).ConnectPortAllowed(25));
  config.connect_ports = std::vector<PortRange>{{443, 443}, {5222, 5223}};
  AccessPolicy policy(config);
  EXPECT_TRUE(policy.ConnectPortAllowed(443));
  EXPECT_TRUE(policy.ConnectPortAllowed(5223));
  EXPECT_FALSE(policy.ConnectPortAllowed(25));
  EXPECT_FALSE(policy.ConnectPortAllowed(5224));
}

}  // namespace
}  // namespace deputy
