#pragma once

#include <memory>
#include <optional>
#include <string>

#include "auth/auth_observer.h"
#include "auth/credential_cache.h"
#include "auth/failure_limiter.h"
#include "auth/password_verifier.h"
#include "auth/shared_users.h"
#include "base/status.h"
#include "config/config.h"
#include "http/basic_credentials.h"
#include "loop/event_loop.h"
#include "net/ip_network.h"

namespace deputy {

// The pieces every listener's authenticator on one worker shares: the worker's loop, and the
// process's hashing threads, failure count per client address and cache of verified
// credentials.
struct AuthServices {
  EventLoop& loop;
  const AuthConfig& config;
  PasswordVerifier& verifier;
  FailureLimiter& failures;
  CredentialCache& verified;
  AuthObserver& observer;
};

// ProxyAuthenticator checks the proxy credentials a listener's clients send against the
// listener's users file. Answers come from the loop, never inside Authenticate: kOk, or
// kAuthFailed (unknown user or wrong password, told apart nowhere), kAuthRateLimited,
// kAuthOverloaded.
class ProxyAuthenticator {
 public:
  using Callback = std::function<void(Status)>;

  ProxyAuthenticator(AuthServices& services, const SharedUsers& users,
                     const ListenerAuthConfig& config);
  std::unique_ptr<PasswordCheck> Authenticate(const std::optional<IpAddress>& client,
                                              const BasicCredentials& credentials, Callback done);
  // Challenge is the Proxy-Authenticate header line (with CRLF) a 407 carries.
  const std::string& Challenge() const { return challenge_; }
  const std::string& listener() const { return users_.listener(); }

 private:
  AuthServices& services_;
  const SharedUsers& users_;
  std::string challenge_;
};

}  // namespace deputy
