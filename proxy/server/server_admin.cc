#include "server/server_admin.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <set>

#include "config/config_writer.h"

namespace deputy {

namespace {

std::string_view KindName(Delegation::Kind kind) {
  switch (kind) {
    case Delegation::Kind::kTargets:
      return "targets";
    case Delegation::Kind::kEmpty:
      return "empty";
    case Delegation::Kind::kNotDelegated:
      return "not_delegated";
  }
  return "targets";
}

// Tenths of a second are as precise as an operator reads ages and lifetimes.
double Tenths(double seconds) { return std::round(seconds * 10) / 10; }

}  // namespace

std::optional<std::string> ServerAdmin::NotReadyReason() const {
  // The admin listener answers only once every listener is bound and every worker runs, so
  // draining is the one way to be up and not ready.
  if (draining_()) return "draining: not accepting new clients";
  return std::nullopt;
}

nlohmann::json ServerAdmin::Delegations() const {
  nlohmann::json entries = nlohmann::json::array();
  for (const DelegationCache::CachedEntry& entry : delegations_.Entries()) {
    const Delegation& delegation = *entry.delegation;
    nlohmann::json targets = nlohmann::json::array();
    for (const Target& target : delegation.targets) {
      targets.push_back({{"host", target.host},
                         {"port", target.port},
                         {"domain", target.domain},
                         {"priority", target.priority},
                         {"weight", target.weight}});
    }
    entries.push_back({{"domain", entry.domain},
                       {"service", entry.service},
                       {"kind", KindName(delegation.kind)},
                       {"http_status", delegation.http_status},
                       {"url", delegation.url},
                       {"targets", std::move(targets)},
                       {"ttl_s", delegation.ttl_s},
                       {"age_s", Tenths(entry.age_s)},
                       {"remaining_s", Tenths(std::max(entry.remaining_s, 0.0))},
                       // Expired but still held: dropped on the next store or lookup of its key.
                       {"stale", entry.remaining_s <= 0}});
  }
  return {{"entries", std::move(entries)}};
}

nlohmann::json ServerAdmin::Config() const {
  return {{"generation", current_->number()}, {"config", EffectiveConfig(current_->config())}};
}

nlohmann::json ServerAdmin::Tunnels() const {
  nlohmann::json listeners = nlohmann::json::object();
  nlohmann::json all = nlohmann::json::object();
  int64_t total = 0;
  std::set<std::string> configured;
  for (const ConfigGeneration::Listener& state : current_->listeners()) {
    configured.insert(state.config->name);
  }
  for (const std::string& listener : metrics_.PhaseListeners()) {
    const Metrics::PhaseGauges& gauges = metrics_.SessionsInPhase(listener);
    nlohmann::json phases = nlohmann::json::object();
    int64_t sessions = 0;
    for (size_t i = 0; i < kSessionPhases; ++i) {
      const std::string name(SessionPhaseName(static_cast<SessionPhase>(i)));
      const auto count = static_cast<int64_t>(gauges[i]->Value());
      phases[name] = count;
      all[name] = all.value(name, int64_t{0}) + count;
      sessions += count;
    }
    // A listener a reload removed is shown while sessions it accepted still run.
    if (!configured.contains(listener)) {
      if (sessions == 0) continue;
      phases["removed"] = true;
    }
    phases["total"] = sessions;
    total += sessions;
    listeners[listener] = std::move(phases);
  }
  all["total"] = total;
  return {{"listeners", std::move(listeners)}, {"all", std::move(all)}};
}

bool ServerAdmin::Drain() {
  if (draining_()) return false;
  drain_();
  spdlog::info("admin: POST /drain; shutting down");
  return true;
}

Status ServerAdmin::Reload() {
  spdlog::info("admin: POST /reload");
  return reload_();
}

Result<std::string> ReadAdminToken(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status(ErrorCode::kInvalidConfig, "admin.token_file: cannot open " + path);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const auto space = [](unsigned char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  };
  while (!text.empty() && space(text.back())) text.pop_back();
  size_t start = 0;
  while (start < text.size() && space(text[start])) ++start;
  text.erase(0, start);
  if (text.empty()) {
    return Status(ErrorCode::kInvalidConfig, "admin.token_file: " + path + " holds no token");
  }
  if (!std::all_of(text.begin(), text.end(),
                   [](unsigned char c) { return c > 0x20 && c < 0x7f; })) {
    return Status(ErrorCode::kInvalidConfig, "admin.token_file: the token in " + path +
                                                 " must be one word of visible ASCII characters");
  }
  return text;
}

}  // namespace deputy
