#include "auth/proxy_authenticator.h"

#include <openssl/mem.h>

#include "base/run_once.h"
#include "base/untrusted_text.h"
#include "loop/timer.h"

namespace deputy {

namespace {

// A password longer than this is refused unchecked (RFC 7617 sets no bound; crypt(3) methods
// such as sha512-crypt take time that grows with it).
constexpr size_t kMaxPasswordBytes = 1024;

// PendingAuthentication is one Authenticate call: an answer known at once is delivered on the
// loop's next turn; a password check is given check_timeout_ms.
class PendingAuthentication : public PasswordCheck {
 public:
  PendingAuthentication(EventLoop& loop, ProxyAuthenticator::Callback done,
                        std::function<void()> on_timeout)
      : done_(std::move(done)),
        on_timeout_(std::move(on_timeout)),
        timer_(loop, [this] { OnTimer(); }) {}

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
    on_timeout_();
    Finish(Status(ErrorCode::kAuthOverloaded, "the password check did not finish within " +
                                                  std::to_string(timeout_ms_) + " ms"));
  }

  ProxyAuthenticator::Callback done_;
  std::function<void()> on_timeout_;
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

ProxyAuthenticator::ProxyAuthenticator(AuthServices& services, const SharedUsers& users,
                                       const ListenerAuthConfig& config)
    : services_(services),
      users_(users),
      challenge_("Proxy-Authenticate: Basic realm=\"" + config.realm + "\"\r\n") {}

std::unique_ptr<PasswordCheck> ProxyAuthenticator::Authenticate(
    const std::optional<IpAddress>& client, const BasicCredentials& credentials, Callback done) {
  auto pending = std::make_unique<PendingAuthentication>(services_.loop, std::move(done), [this] {
    services_.observer.OnAuthentication(listener(), AuthResult::kOverloaded);
  });
  const auto now = FailureLimiter::Clock::now();
  const std::shared_ptr<const UsersTable> users = users_.Get();
  const std::string* stored = users->HashOf(credentials.user);
  // The cache first: a hit takes the exact password, so clients that share an address with a
  // guesser (behind NAT) are not locked out with it.
  if (stored != nullptr &&
      services_.verified.Contains(credentials.user, credentials.password, *stored, now)) {
    services_.observer.OnAuthentication(listener(), AuthResult::kCached);
    pending->Answer(Status::Ok());
    return pending;
  }
  // Charged as a failure from here, forgiven if the password matches: checks in flight from
  // one address, on any worker, stay within its budget.
  if (client) {
    if (auto wait = services_.failures.Charge(*client, now); wait.count() > 0) {
      services_.observer.OnAuthentication(listener(), AuthResult::kRateLimited);
      pending->Answer(Status(ErrorCode::kAuthRateLimited,
                             "too many failed proxy authentications from this address; retry "
                             "in " +
                                 std::to_string(wait.count()) + " s"));
      return pending;
    }
  }
  // An unknown user costs a hash too, so the time taken does not tell which users exist; an
  // overlong password would make some methods work far longer, and is never a real one.
  const std::string* hash = stored != nullptr ? stored : users->AnyHash();
  if (hash == nullptr || credentials.password.size() > kMaxPasswordBytes) {
    services_.observer.OnAuthentication(listener(), AuthResult::kFailed);
    pending->Answer(WrongCredentials(credentials));
    return pending;
  }
  PendingAuthentication* raw = pending.get();
  std::unique_ptr<PasswordCheck> check = services_.verifier.Verify(
      services_.loop, credentials.password, *hash,
      [this, raw, client, attempt = credentials, known = stored != nullptr,
       hash = *hash](bool matches) mutable {
        const auto later = FailureLimiter::Clock::now();
        // The users never change under a check: a reload makes a new table for the sessions
        // accepted after it, and this one's stays what it was.
        Status status = Status::Ok();
        if (matches && known) {
          if (client) services_.failures.Forgive(*client);
          services_.verified.Insert(attempt.user, attempt.password, hash, later);
          services_.observer.OnAuthentication(listener(), AuthResult::kOk);
        } else {
          services_.observer.OnAuthentication(listener(), AuthResult::kFailed);
          status = WrongCredentials(attempt);
        }
        OPENSSL_cleanse(attempt.password.data(), attempt.password.size());
        raw->Finish(std::move(status));
      });
  if (!check) {
    // Refused unchecked: not the client's failure.
    if (client) services_.failures.Forgive(*client);
    services_.observer.OnAuthentication(listener(), AuthResult::kOverloaded);
    pending->Answer(
        Status(ErrorCode::kAuthOverloaded, "too many proxy password checks are waiting"));
    return pending;
  }
  pending->Wait(std::move(check), services_.config.check_timeout_ms);
  return pending;
}

}  // namespace deputy
