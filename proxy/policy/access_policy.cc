#include "policy/access_policy.h"

#include <algorithm>

namespace deputy {

namespace {

bool DomainMatches(std::string_view pattern, std::string_view domain) {
  if (!pattern.starts_with("*.")) return pattern == domain;
  const std::string_view parent = pattern.substr(1);  // ".example.org"
  return domain.size() > parent.size() && domain.ends_with(parent);
}

bool IdentityMatches(std::string_view pattern, std::string_view identity) {
  if (!pattern.ends_with("/*")) return pattern == identity;
  const std::string_view prefix = pattern.substr(0, pattern.size() - 1);  // "spiffe://td/"
  return identity.size() > prefix.size() && identity.starts_with(prefix);
}

bool InRanges(const std::vector<PortRange>& ranges, uint16_t port) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [port](const PortRange& r) { return port >= r.first && port <= r.last; });
}

template <typename T, typename Match>
bool AnyMatches(const std::optional<std::vector<T>>& matcher, Match match) {
  return !matcher || std::any_of(matcher->begin(), matcher->end(), match);
}

bool RuleMatches(const PolicyRule& rule, const AccessRequest& request) {
  const std::optional<IpAddress> client =
      request.client ? std::optional(Unmapped(*request.client)) : std::nullopt;
  const bool client_matches = AnyMatches(
      rule.clients, [&](const IpNetwork& network) { return client && network.Contains(*client); });
  const bool user_matches = AnyMatches(rule.users, [&](const std::string& user) {
    return !request.user.empty() && user == request.user;
  });
  const bool identity_matches = AnyMatches(rule.identities, [&](const std::string& pattern) {
    return request.identities != nullptr &&
           std::any_of(request.identities->begin(), request.identities->end(),
                       [&](const std::string& id) { return IdentityMatches(pattern, id); });
  });
  return client_matches && user_matches && identity_matches &&
         AnyMatches(rule.listeners,
                    [&](const std::string& name) { return name == request.listener; }) &&
         AnyMatches(
             rule.domains,
             [&](const std::string& pattern) { return DomainMatches(pattern, request.domain); }) &&
         AnyMatches(rule.services,
                    [&](const std::string& service) { return service == request.service; }) &&
         (!rule.ports || InRanges(*rule.ports, request.port));
}

}  // namespace

AccessPolicy::AccessPolicy(const PolicyConfig& config)
    : config_(config),
      default_action_(config.default_action.value_or(config.rules.empty() ? PolicyAction::kAllow
                                                                          : PolicyAction::kDeny)) {}

AccessDecision AccessPolicy::Decide(const AccessRequest& request) const {
  for (const PolicyRule& rule : config_.rules) {
    if (RuleMatches(rule, request)) return {rule.action, rule.name};
  }
  return {default_action_, kDefaultRule};
}

bool AccessPolicy::ConnectPortAllowed(uint16_t port) const {
  return !config_.connect_ports || InRanges(*config_.connect_ports, port);
}

}  // namespace deputy
