#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "net/ip_network.h"

namespace deputy {

// AccessRequest is what the access rules may look at: who asks, through which listener, for
// what. The port is the one the client named, or its service's port when it named a service.
struct AccessRequest {
  std::optional<IpAddress> client;
  std::string_view listener;
  std::string_view domain;   // normalized: lower case, no trailing dot
  std::string_view service;  // normalized; empty when the client named a port with no service
  uint16_t port = 0;
  std::string_view user;                                 // empty: not authenticated
  const std::vector<std::string>* identities = nullptr;  // verified client certificate SANs
};

struct AccessDecision {
  PolicyAction action = PolicyAction::kAllow;
  std::string_view rule;  // the rule that decided, or "default"
};

// AccessPolicy evaluates policy.rules in order; the first rule whose matchers all match
// decides, else policy.default (allow when there are no rules, else deny). Every matcher is a
// list of alternatives: a client network, a user, an identity (exact, or every SPIFFE ID under
// "spiffe://trust-domain/*"), a listener, a domain (exact, or "*.example.org" for its proper
// subdomains), a service, a port range.
class AccessPolicy {
 public:
  explicit AccessPolicy(const PolicyConfig& config);  // keeps a reference to `config`
  explicit AccessPolicy(PolicyConfig&&) = delete;

  AccessDecision Decide(const AccessRequest& request) const;
  // ConnectPortAllowed says whether a CONNECT may ask for `port` (policy.connect_ports).
  bool ConnectPortAllowed(uint16_t port) const;
  // DefaultAction is what happens when no rule matches.
  PolicyAction default_action() const { return default_action_; }

 private:
  const PolicyConfig& config_;
  PolicyAction default_action_;
};

// The rule names of a decision no rule made, and of a CONNECT port outside
// policy.connect_ports; no rule may take them.
inline constexpr std::string_view kDefaultRule = "default";
inline constexpr std::string_view kConnectPortsRule = "connect_ports";

}  // namespace deputy
