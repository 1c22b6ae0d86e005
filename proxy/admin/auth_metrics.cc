#include "admin/auth_metrics.h"

namespace deputy {

void AuthMetrics::Register(std::string_view listener) {
  for (AuthResult result : {AuthResult::kOk, AuthResult::kCached, AuthResult::kFailed,
                            AuthResult::kRateLimited, AuthResult::kOverloaded}) {
    metrics_.ProxyAuthentications(listener, AuthResultLabel(result));
  }
  metrics_.UsersFileLoads(listener, "ok");
  metrics_.UsersFileLoads(listener, "error");
  metrics_.ProxyUsers(listener);
}

void AuthMetrics::OnAuthentication(std::string_view listener, AuthResult result) {
  metrics_.ProxyAuthentications(listener, AuthResultLabel(result)).Increment();
}

void AuthMetrics::OnChecks(size_t running, size_t waiting) {
  metrics_.PasswordChecks("running").Set(static_cast<double>(running));
  metrics_.PasswordChecks("waiting").Set(static_cast<double>(waiting));
}

void AuthMetrics::OnUsersFileLoad(std::string_view listener, bool ok) {
  metrics_.UsersFileLoads(listener, ok ? "ok" : "error").Increment();
}

void AuthMetrics::OnUsersInForce(std::string_view listener, size_t users) {
  metrics_.ProxyUsers(listener).Set(static_cast<double>(users));
}

}  // namespace deputy
