#include "tls/tls_connector.h"

#include <algorithm>
#include <optional>

#include "base/run_once.h"

namespace deputy {

namespace {

// A step with no timeout of its own (name resolution: the resolver bounds it).
constexpr uint64_t kNoTimeout = UINT64_MAX;

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TlsConnectAttempt::TlsConnectAttempt(EventLoop& loop, DnsResolver& resolver,
                                     const DestinationGuard& guard, SSL_CTX* ctx,
                                     ConnectTimeouts timeouts, ConnectBudget budget)
    : loop_(loop),
      resolver_(resolver),
      guard_(guard),
      ctx_(ctx),
      timeouts_(timeouts),
      budget_(budget),
      timer_(loop, [this] { OnTimeout(); }) {}

TlsConnectAttempt::~TlsConnectAttempt() {
  done_ = nullptr;
  if (tcp_) tcp_->Close();
  if (tls_) tls_->Close();
}

void TlsConnectAttempt::Start(const std::string& host, uint16_t port,
                              const std::string& verify_name, Callback done,
                              FailureObserver on_failure) {
  host_ = host;
  port_ = port;
  verify_name_ = verify_name;
  done_ = std::move(done);
  on_failure_ = std::move(on_failure);
  StartTimer(kNoTimeout);
  started_ = std::chrono::steady_clock::now();
  dns_ = resolver_.Resolve(host, port, [this](Result<std::vector<IpEndpoint>> result) {
    resolved_ = true;
    dns_seconds_ = SecondsSince(started_);
    timer_.Stop();
    if (!result.ok()) {
      Finish(result.status());
      return;
    }
    endpoints_ = std::move(result).value();
    TryNext();
  });
}

void TlsConnectAttempt::TryNext() {
  if (limit_reached_ == Limit::kDeadline) {
    Finish(last_error_);
    return;
  }
  // Checked on the resolved address itself, right before the connect that uses it.
  for (; next_ < endpoints_.size(); ++next_) {
    std::optional<std::string> prohibited = guard_.Prohibits(endpoints_[next_]);
    if (!prohibited) break;
    if (on_failure_) {
      on_failure_(host_ + " (" + endpoints_[next_].ToString() + ")",
                  Status(ErrorCode::kDestinationProhibited, "address prohibited: " + *prohibited));
    }
    // A real failure of another address says more than a skipped one; never hide it.
    if (last_error_.ok()) {
      last_error_ = Status(ErrorCode::kDestinationProhibited,
                           host_ + ": destination address prohibited by policy");
    }
  }
  if (next_ >= endpoints_.size()) {
    Finish(LastErrorOr(ErrorCode::kDnsError, host_ + " has no usable address"));
    return;
  }
  if (ConnectBudget::Clock::now() >= budget_.deadline) {
    limit_reached_ = Limit::kDeadline;
    Finish(LastErrorOr(ErrorCode::kConnectionTimeout, host_ + ": no time left to connect"));
    return;
  }
  if (connects_ >= budget_.max_connects) {
    limit_reached_ = Limit::kConnects;
    Finish(LastErrorOr(ErrorCode::kConnectionTimeout, host_ + ": no connection attempt left"));
    return;
  }
  ++connects_;
  tcp_ = std::make_unique<TcpStream>(loop_);
  StartTimer(timeouts_.connect_ms);
  connect_started_ = std::chrono::steady_clock::now();
  tcp_->Connect(endpoints_[next_], [this](const Status& status) { OnTcpConnected(status); });
}

void TlsConnectAttempt::OnTcpConnected(const Status& status) {
  if (!status.ok()) {
    AttemptFailed(status);
    return;
  }
  connect_seconds_ = SecondsSince(connect_started_);
  StartTimer(timeouts_.handshake_ms);
  handshake_started_ = std::chrono::steady_clock::now();
  tls_ = std::make_unique<TlsStream>(loop_, ctx_, std::move(tcp_));
  tls_->Handshake(verify_name_, [this](const Status& s) { OnHandshake(s); });
}

void TlsConnectAttempt::OnHandshake(const Status& status) {
  if (!status.ok()) {
    AttemptFailed(status);
    return;
  }
  timer_.Stop();
  TlsConnection connection;
  connection.endpoint = endpoints_[next_];
  connection.dns_seconds = dns_seconds_;
  connection.connect_seconds = connect_seconds_;
  connection.handshake_seconds = SecondsSince(handshake_started_);
  connection.stream = std::move(tls_);
  Finish(std::move(connection));
}

void TlsConnectAttempt::StartTimer(uint64_t timeout_ms) {
  timer_cut_ = false;
  if (budget_.deadline != ConnectBudget::Clock::time_point::max()) {
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>(budget_.deadline - ConnectBudget::Clock::now())
            .count();
    auto left_ms = static_cast<uint64_t>(std::max<decltype(left)>(left, 0));
    if (left_ms < timeout_ms) {
      timeout_ms = left_ms;
      timer_cut_ = true;
    }
  }
  timer_ms_ = timeout_ms;
  if (timeout_ms != kNoTimeout) timer_.Start(timeout_ms);
}

void TlsConnectAttempt::OnTimeout() {
  // A step cut short by the deadline ends the whole attempt: the budget is spent.
  if (timer_cut_) limit_reached_ = Limit::kDeadline;
  std::string within = " not finished within " + std::to_string(timer_ms_) + " ms";
  if (!resolved_) {
    // Only the budget times resolution here (the resolver has its own dns.timeout_ms), and
    // what ran out is still the name lookup.
    dns_.reset();
    Finish(Status(ErrorCode::kDnsTimeout, host_ + ": name resolution" + within));
    return;
  }
  AttemptFailed(
      Status(ErrorCode::kConnectionTimeout, (tls_ ? "TLS handshake" : "connect") + within));
}

void TlsConnectAttempt::AttemptFailed(const Status& status) {
  timer_.Stop();
  std::string where = host_ + " (" + endpoints_[next_].ToString() + ")";
  if (on_failure_) on_failure_(where, status);
  // This message reaches the client: it names the host but never the address, or deputy would
  // tell anyone which addresses and ports answer.
  last_error_ = Status(status.code(), host_ + ": " + status.message());
  // The failed stream may be inside its own callback right now; free it later.
  if (tcp_) {
    tcp_->Close();
    loop_.DeferDelete(std::move(tcp_));
  }
  if (tls_) {
    tls_->Close();
    loop_.DeferDelete(std::move(tls_));
  }
  ++next_;
  TryNext();
}

Status TlsConnectAttempt::LastErrorOr(ErrorCode code, const std::string& message) const {
  return last_error_.ok() ? Status(code, message) : last_error_;
}

void TlsConnectAttempt::Finish(Result<TlsConnection> result) {
  timer_.Stop();
  RunOnce(done_, std::move(result));
}

}  // namespace deputy
