#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/status.h"

namespace deputy {

// AdminApi is what the admin endpoint asks of the running process. It is called on the loop
// the admin listener runs on.
class AdminApi {
 public:
  virtual ~AdminApi() = default;

  // NotReadyReason is why new clients should not be sent here now (starting, draining), or
  // nothing when ready.
  virtual std::optional<std::string> NotReadyReason() const = 0;
  // Delegations describes every cached delegation: key, targets, age, remaining lifetime.
  virtual nlohmann::json Delegations() const = 0;
  // Config is the configuration in force, every default filled in.
  virtual nlohmann::json Config() const = 0;
  // Tunnels counts the open sessions by listener and phase.
  virtual nlohmann::json Tunnels() const = 0;
  // Drain stops accepting, lets sessions finish within the drain deadline, then exits; false
  // when a drain was already under way.
  virtual bool Drain() = 0;
  // Reload reads the configuration file again and applies it to new sessions, or changes
  // nothing and says why.
  virtual Status Reload() = 0;
};

}  // namespace deputy
