#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "admin/admin_api.h"
#include "admin/metrics.h"
#include "base/status.h"
#include "config/config.h"
#include "delegation/delegation_cache.h"
#include "server/config_generation.h"

namespace deputy {

// ServerAdmin answers the admin endpoint's questions from the running server's parts. It runs
// on the main loop; what it reads from the workers (the cache, the gauges) is thread-safe.
class ServerAdmin : public AdminApi {
 public:
  // `current` is the server's configuration in force, read at each request.
  ServerAdmin(const std::shared_ptr<const ConfigGeneration>& current,
              const DelegationCache& delegations, Metrics& metrics, std::function<bool()> draining,
              std::function<void()> drain, std::function<Status()> reload)
      : current_(current),
        delegations_(delegations),
        metrics_(metrics),
        draining_(std::move(draining)),
        drain_(std::move(drain)),
        reload_(std::move(reload)) {}

  std::optional<std::string> NotReadyReason() const override;
  nlohmann::json Delegations() const override;
  nlohmann::json Config() const override;
  nlohmann::json Tunnels() const override;
  bool Drain() override;
  Status Reload() override;

 private:
  const std::shared_ptr<const ConfigGeneration>& current_;
  const DelegationCache& delegations_;
  Metrics& metrics_;
  std::function<bool()> draining_;
  std::function<void()> drain_;
  std::function<Status()> reload_;
};

// ReadAdminToken reads admin.token_file: one token, surrounding whitespace ignored, made of
// visible ASCII characters only (it travels in an HTTP header).
Result<std::string> ReadAdminToken(const std::string& path);

}  // namespace deputy
