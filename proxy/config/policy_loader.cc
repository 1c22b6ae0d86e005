#include "config/policy_loader.h"

#include <algorithm>
#include <set>
#include <string>

#include "config/config_names.h"
#include "net/names.h"

namespace deputy::config_json {

namespace {

// The names the metrics give to a decision no rule made and to a CONNECT port refused by
// connect_ports (policy/access_policy.h).
constexpr std::string_view kReservedRuleNames[] = {"default", "connect_ports"};

// ReadList calls read(value, path) for each element of the non-empty list at `path`.
template <typename ReadOne>
void ReadList(Errors* errors, const Json& json, const std::string& path, std::string_view what,
              ReadOne read) {
  if (!json.is_array() || json.empty()) {
    errors->Add(path, "expected a non-empty list of " + std::string(what) + ", got " + Shown(json));
    return;
  }
  for (size_t i = 0; i < json.size(); ++i) read(json[i], Index(path, i));
}

// ReadPortRange accepts a port (443) or an inclusive range as a string ("8000-8999").
bool ReadPortRange(Errors* errors, const Json& value, const std::string& path, PortRange* out) {
  if (value.is_number()) {
    uint32_t port = 0;
    if (!ReadUint32(errors, value, path, 1, kMaxPort, &port)) return false;
    *out = {static_cast<uint16_t>(port), static_cast<uint16_t>(port)};
    return true;
  }
  const std::string why = "expected a port (443) or a range (\"8000-8999\"), got " + Shown(value);
  if (!value.is_string()) {
    errors->Add(path, why);
    return false;
  }
  const std::string& text = value.get_ref<const std::string&>();
  const size_t dash = text.find('-');
  auto number = [](std::string_view digits) -> uint32_t {
    if (digits.empty() || digits.size() > 5 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return 0;
    }
    uint32_t n = 0;
    for (char c : digits) n = n * 10 + static_cast<uint32_t>(c - '0');
    return n <= kMaxPort ? n : 0;
  };
  if (dash == std::string::npos) {
    errors->Add(path, why);
    return false;
  }
  const uint32_t first = number(std::string_view(text).substr(0, dash));
  const uint32_t last = number(std::string_view(text).substr(dash + 1));
  if (first == 0 || last == 0 || first > last) {
    errors->Add(path, why);
    return false;
  }
  *out = {static_cast<uint16_t>(first), static_cast<uint16_t>(last)};
  return true;
}

std::vector<PortRange> ReadPorts(Errors* errors, const Json& json, const std::string& path) {
  std::vector<PortRange> ports;
  ReadList(errors, json, path, "ports", [&](const Json& value, const std::string& at) {
    PortRange range;
    if (ReadPortRange(errors, value, at, &range)) ports.push_back(range);
  });
  return ports;
}

// ReadDomainPattern accepts a domain (exact) or "*.example.org" (its proper subdomains).
bool ReadDomainPattern(Errors* errors, const Json& value, const std::string& path,
                       std::string* out) {
  if (value.is_string() && value.get_ref<const std::string&>().starts_with("*.")) {
    std::string parent;
    if (!ReadDomain(errors, Json(value.get_ref<const std::string&>().substr(2)), path, &parent)) {
      return false;
    }
    *out = "*." + parent;
    return true;
  }
  if (value.is_string() && value.get_ref<const std::string&>().find('*') != std::string::npos) {
    errors->Add(path, Shown(value) + ": a wildcard is only allowed as a whole first label, " +
                          "\"*.example.org\"");
    return false;
  }
  return ReadDomain(errors, value, path, out);
}

// ReadIdentity accepts a SAN to match exactly, or "spiffe://trust-domain/*" for every
// identity under that trust domain.
bool ReadIdentity(Errors* errors, const Json& value, const std::string& path, std::string* out) {
  if (!ReadString(errors, value, path, out)) return false;
  if (out->find('*') == std::string::npos) return true;
  constexpr std::string_view kScheme = "spiffe://";
  const std::string_view text = *out;
  const std::string_view trust_domain =
      text.starts_with(kScheme) && text.ends_with("/*")
          ? text.substr(kScheme.size(), text.size() - kScheme.size() - 2)
          : std::string_view();
  if (trust_domain.empty() || trust_domain.find_first_of("/*") != std::string_view::npos) {
    errors->Add(path, Shown(value) + ": '*' is only allowed as \"spiffe://trust-domain/*\"");
    return false;
  }
  return true;
}

template <typename T, typename ReadOne>
std::optional<std::vector<T>> ReadMatcher(Errors* errors, const Object& rule, std::string_view key,
                                          std::string_view what, ReadOne read) {
  const Json* json = rule.Find(key);
  if (json == nullptr) return std::nullopt;
  std::vector<T> values;
  ReadList(errors, *json, rule.PathOf(key), what, [&](const Json& value, const std::string& at) {
    T one;
    if (read(errors, value, at, &one)) values.push_back(std::move(one));
  });
  return values;
}

PolicyRule ReadRule(Errors* errors, const Json& json, const std::string& path) {
  PolicyRule rule;
  const Object object(errors, json, path,
                      {"name", "action", "clients", "users", "identities", "listeners", "domains",
                       "services", "ports"});
  if (!object.valid()) return rule;
  if (const Json* name = object.Require("name")) {
    if (ReadString(errors, *name, object.PathOf("name"), &rule.name) && !IsPlainName(rule.name)) {
      errors->Add(object.PathOf("name"), Shown(*name) + " is not a rule name (letters, digits, " +
                                             "'_', '.', '-'; it becomes a metric label)");
    }
    for (std::string_view reserved : kReservedRuleNames) {
      if (rule.name == reserved) {
        errors->Add(object.PathOf("name"),
                    Quoted(reserved) + " is reserved for the metrics of decisions no rule made");
      }
    }
  }
  if (const Json* action = object.Require("action")) {
    ReadChoice<PolicyAction>(errors, *action, object.PathOf("action"), kPolicyActionNames,
                             &rule.action);
  }
  if (const Json* clients = object.Find("clients")) {
    std::vector<IpNetwork> networks;
    if (clients->is_array() && clients->empty()) {
      errors->Add(object.PathOf("clients"), "expected a non-empty list of networks, got []");
    }
    ReadNetworks(errors, *clients, object.PathOf("clients"), &networks);
    for (size_t i = 0; i < networks.size(); ++i) {
      if (networks[i].prefix >= 96 && Ipv4MappedNetwork().Contains(networks[i].base)) {
        errors->Add(Index(object.PathOf("clients"), i),
                    networks[i].ToString() + " is IPv4-mapped; write the IPv4 network: a " +
                        "mapped client address is matched as the IPv4 address it carries");
      }
    }
    rule.clients = std::move(networks);
  }
  rule.users = ReadMatcher<std::string>(errors, object, "users", "user names", ReadString);
  rule.identities =
      ReadMatcher<std::string>(errors, object, "identities", "identities", ReadIdentity);
  rule.listeners =
      ReadMatcher<std::string>(errors, object, "listeners", "listener names", ReadString);
  rule.domains = ReadMatcher<std::string>(errors, object, "domains", "domains", ReadDomainPattern);
  rule.services =
      ReadMatcher<std::string>(errors, object, "services", "service names", ReadService);
  if (const Json* ports = object.Find("ports")) {
    rule.ports = ReadPorts(errors, *ports, object.PathOf("ports"));
  }
  return rule;
}

}  // namespace

void ReadPolicy(Errors* errors, const Json& json, PolicyConfig* out) {
  const Object object(errors, json, "policy",
                      {"allowed_networks", "denied_networks", "rules", "default", "connect_ports"});
  if (const Json* allowed = object.Find("allowed_networks")) {
    ReadNetworks(errors, *allowed, object.PathOf("allowed_networks"), &out->allowed_networks);
  }
  if (const Json* denied = object.Find("denied_networks")) {
    ReadNetworks(errors, *denied, object.PathOf("denied_networks"), &out->denied_networks);
  }
  if (const Json* rules = object.Find("rules")) {
    const std::string path = object.PathOf("rules");
    if (!rules->is_array()) {
      errors->Add(path, "expected a list of rules, got " + Shown(*rules));
    } else {
      std::set<std::string> names;
      for (size_t i = 0; i < rules->size(); ++i) {
        PolicyRule rule = ReadRule(errors, (*rules)[i], Index(path, i));
        if (!rule.name.empty() && !names.insert(rule.name).second) {
          errors->Add(Index(path, i) + ".name", Quoted(rule.name) + " names another rule too");
        }
        out->rules.push_back(std::move(rule));
      }
    }
  }
  if (const Json* action = object.Find("default")) {
    PolicyAction chosen = PolicyAction::kDeny;
    if (ReadChoice<PolicyAction>(errors, *action, object.PathOf("default"), kPolicyActionNames,
                                 &chosen)) {
      out->default_action = chosen;
    }
  }
  if (const Json* ports = object.Find("connect_ports")) {
    out->connect_ports = ReadPorts(errors, *ports, object.PathOf("connect_ports"));
  }
}

void CheckPolicyListeners(Errors* errors, const PolicyConfig& policy,
                          const std::vector<ListenerConfig>& listeners) {
  for (size_t i = 0; i < policy.rules.size(); ++i) {
    const PolicyRule& rule = policy.rules[i];
    const auto named = [&](const ListenerConfig& l) {
      return !rule.listeners || std::find(rule.listeners->begin(), rule.listeners->end(), l.name) !=
                                    rule.listeners->end();
    };
    if (rule.listeners) {
      const std::vector<std::string>& names = *rule.listeners;
      for (size_t j = 0; j < names.size(); ++j) {
        const bool known = std::any_of(listeners.begin(), listeners.end(),
                                       [&](const ListenerConfig& l) { return l.name == names[j]; });
        if (!known) {
          errors->Add(Index(Index("policy.rules", i) + ".listeners", j),
                      Quoted(names[j]) + " is not the name of a listener");
        }
      }
    }
    // Users exist only where a listener authenticates them; elsewhere the rule never matches.
    const bool authenticated = std::any_of(listeners.begin(), listeners.end(), [&](const auto& l) {
      return named(l) && l.auth.has_value();
    });
    if (rule.users && !authenticated) {
      errors->Add(Index("policy.rules", i) + ".users",
                  "no listener this rule applies to has auth, so this could never match");
    }
    // Identities likewise exist only where a listener verifies client certificates.
    const bool verified = std::any_of(listeners.begin(), listeners.end(), [&](const auto& l) {
      return named(l) && l.tls.has_value() && !l.tls->client_ca_file.empty();
    });
    if (rule.identities && !verified) {
      errors->Add(Index("policy.rules", i) + ".identities",
                  "no listener this rule applies to has tls.client_ca_file, so this could never "
                  "match");
    }
  }
}

}  // namespace deputy::config_json
