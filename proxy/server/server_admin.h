#pragma once

#include <functional>
#include <optional>
#include <string>

#include "admin/admin_api.h"
#include "admin/metrics.h"
#include "base/status.h"
#include "config/config.h"
#include "delegation/delegation_cache.h"

namespace deputy {

// ServerAdmin answers the admin endpoint's questions from the running server's parts. It runs
// on the main loop; what it reads from the workers (the cache, the gauges) is thread-safe.
class ServerAdmin : public AdminApi {
 public:
  ServerAdmin(const Config& config, const DelegationCache& delegations, Metrics& metrics,
              std::function<bool()> draining, std::function<void()> drain)
      : config_(config),
        delegations_(delegations),
        metrics_(metrics),
        draining_(std::move(draining)),
        drain_(std::move(drain)) {}

  std::optional<std::string> NotReadyReason() const override;
  nlohmann::json Delegations() const override;
  nlohmann::json Tunnels() const override;
  bool Drain() override;

 private:
  const Config& config_;
  const DelegationCache& delegations_;
  Metrics& metrics_;
  std::function<bool()> draining_;
  std::function<void()> drain_;
};

// ReadAdminToken reads admin.token_file: one token, surrounding whitespace ignored, made of
// visible ASCII characters only (it travels in an HTTP header).
Result<std::string> ReadAdminToken(const std::string& path);

}  // namespace deputy
