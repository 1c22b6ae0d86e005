#include "auth/proxy_authenticator.h"

#include <openssl/mem.h>

#include "base/run_once.h"
#include "base/untrusted_text.h"
#include "loop/timer.h"

namespace deputy {

namespace {

// PendingAuthentication is one Authenticate call: an answer known at once is delivered on the
// loop's next turn; a password check is given check_timeout_ms.
class PendingAuthentication : public PasswordCheck {
 public:
  PendingAuthentication(EventLoop& loop, ProxyAuthenticator::Callback done)
      : done_(std::move(done)), timer_(loop, [this] { OnTimer(); }) {}

  void Answer(Status status) {
    answer_ = std::move(status);
    timer_.Start(0);
  }

  void Wait(std::unique_ptr<PasswordCheck> check, uint32_t timeout_ms) {
    check_ = std::move(check);
    timeout_ms_ = timeout_ms;
    timer_.Start(timeout_ms);
  }

  void Finish(Status status) {
    timer_.Stop();
    RunOnce(done_, std::move(status));
  }

 private:
  void OnTimer() {
    if (answer_) {
      Finish(std::move(*answer_));
      return;
    }
    check_.reset();
    Finish(Status(ErrorCode::kAuthOverloaded, "the password check did not finish within " +
                                                  std::to_string(timeout_ms_) + " ms"));
  }

  ProxyAuthenticator::Callback done_;
  Timer timer_;
  std::optional<Status> answer_;
  std::unique_ptr<PasswordCheck> check_;
  uint32_t timeout_ms_ = 0;
};

Status WrongCredentials(const BasicCredentials& credentials) {
  return Status(ErrorCode::kAuthFailed,
                "wrong user name or password for " + QuoteUntrusted(credentials.user));
}

}  // namespace

ProxyAuthenticator::ProxyAuthenticator(AuthServices& services, std::string listener,
                                       const ListenerAuthConfig& config)
    : services_(services),
      listener_(std::move(listener)),
      config_(config),
      challenge_("Proxy-Authenticate: Basic realm=\"" + config.realm + "\"\r\n") {}

Status ProxyAuthenticator::Load() {
  Result<UsersTable> table = UsersTable::Load(config_.users_file);
  if (table.ok()) users_ = std::move(table).value();
  services_.observer.OnUsersFileLoad(listener_, table.ok(), users_.size());
  return table.status();
}

void ProxyAuthenticator::ReportChecks() {
  services_.observer.OnChecks(services_.verifier.running(), services_.verifier.waiting());
}

std::unique_ptr<PasswordCheck> ProxyAuthenticator::Authenticate(
    const std::optional<IpAddress>& client, const BasicCredentials& credentials, Callback done) {
  auto pending = std::make_unique<PendingAuthentication>(services_.loop, std::move(done));
  const auto now = FailureLimiter::Clock::now();
  if (client) {
    if (auto wait = services_.failures.RetryAfter(*client, now); wait.count() > 0) {
      services_.observer.OnAuthentication(listener_, AuthResult::kRateLimited);
      pending->Answer(Status(ErrorCode::kAuthRateLimited,
                             "too many failed proxy authentications from this address; retry "
                             "in " +
                                 std::to_string(wait.count()) + " s"));
      return pending;
    }
  }
  const std::string* stored = users_.HashOf(credentials.user);
  if (stored != nullptr &&
      services_.verified.Contains(credentials.user, credentials.password, *stored, now)) {
    services_.observer.OnAuthentication(listener_, AuthResult::kCached);
    pending->Answer(Status::Ok());
    return pending;
  }
  // An unknown user costs a hash too, so the time taken does not tell which users exist.
  const std::string* hash = stored != nullptr ? stored : users_.AnyHash();
  if (hash == nullptr) {
    services_.observer.OnAuthentication(listener_, AuthResult::kFailed);
    pending->Answer(WrongCredentials(credentials));
    return pending;
  }
  PendingAuthentication* raw = pending.get();
  std::unique_ptr<PasswordCheck> check = services_.verifier.Verify(
      credentials.password, *hash,
      [this, raw, client, attempt = credentials, known = stored != nullptr,
       hash = *hash](bool matches) mutable {
        const auto later = FailureLimiter::Clock::now();
        Status status = Status::Ok();
        if (matches && known) {
          services_.verified.Insert(attempt.user, attempt.password, hash, later);
          services_.observer.OnAuthentication(listener_, AuthResult::kOk);
        } else {
          if (client) services_.failures.RecordFailure(*client, later);
          services_.observer.OnAuthentication(listener_, AuthResult::kFailed);
          status = WrongCredentials(attempt);
        }
        OPENSSL_cleanse(attempt.password.data(), attempt.password.size());
        ReportChecks();
        raw->Finish(std::move(status));
      });
  if (!check) {
    services_.observer.OnAuthentication(listener_, AuthResult::kOverloaded);
    pending->Answer(
        Status(ErrorCode::kAuthOverloaded, "too many proxy password checks are waiting"));
    return pending;
  }
  pending->Wait(std::move(check), services_.config.check_timeout_ms);
  ReportChecks();
  return pending;
}

}  // namespace deputy
