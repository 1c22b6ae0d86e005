#pragma once

#include "admin/metrics.h"
#include "auth/auth_observer.h"

namespace deputy {

// AuthMetrics records what proxy authentication reports in deputy's Prometheus metrics.
class AuthMetrics : public AuthObserver {
 public:
  explicit AuthMetrics(Metrics& metrics) : metrics_(metrics) {}

  // Register shows every result of `listener` from the start, at zero.
  void Register(std::string_view listener);

  void OnAuthentication(std::string_view listener, AuthResult result) override;
  // OnChecks records the password checks running on worker threads and waiting for one.
  void OnChecks(size_t running, size_t waiting);
  void OnUsersFileLoad(std::string_view listener, bool ok) override;
  // OnUsersInForce records how many users `listener` has in the configuration that applies.
  void OnUsersInForce(std::string_view listener, size_t users);

 private:
  Metrics& metrics_;
};

}  // namespace deputy
