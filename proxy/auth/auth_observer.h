#pragma once

#include <cstddef>
#include <string_view>

namespace deputy {

// How one proxy authentication with credentials ended; each value is a metric label.
enum class AuthResult {
  kOk,           // the password verified
  kCached,       // it verified recently (auth/credential_cache.h)
  kFailed,       // unknown user or wrong password
  kRateLimited,  // refused unchecked: too many recent failures from the client's address
  kOverloaded,   // refused: too many checks queued, or not done in time
};

constexpr std::string_view AuthResultLabel(AuthResult result) {
  switch (result) {
    case AuthResult::kOk:
      return "ok";
    case AuthResult::kCached:
      return "cached";
    case AuthResult::kFailed:
      return "failed";
    case AuthResult::kRateLimited:
      return "rate_limited";
    case AuthResult::kOverloaded:
      return "overloaded";
  }
  return "failed";
}

// AuthObserver is told what proxy authentication does, so auth/ need not know how it is
// measured (admin/auth_metrics.h).
class AuthObserver {
 public:
  virtual ~AuthObserver() = default;

  virtual void OnAuthentication(std::string_view listener, AuthResult result) = 0;
  // A users file was read, at start or for a reload: `ok` false when it was refused (the
  // reload fails, and the users read before stay in force).
  virtual void OnUsersFileLoad(std::string_view listener, bool ok) = 0;
};

}  // namespace deputy
