#include "tls/tls_connector.h"

#include "base/run_once.h"

namespace deputy {

TlsConnectAttempt::TlsConnectAttempt(EventLoop& loop, DnsResolver& resolver, SSL_CTX* ctx,
                                     ConnectTimeouts timeouts)
    : loop_(loop), resolver_(resolver), ctx_(ctx), timeouts_(timeouts), timer_(loop, [this] {
        OnTimeout();
      }) {}

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
  dns_ = resolver_.Resolve(host, port, [this](Result<std::vector<IpEndpoint>> result) {
    if (!result.ok()) {
      Finish(result.status());
      return;
    }
    endpoints_ = std::move(result).value();
    TryNext();
  });
}

void TlsConnectAttempt::TryNext() {
  if (next_ >= endpoints_.size()) {
    Finish(last_error_.ok() ? Status(ErrorCode::kDnsError, host_ + " has no usable address")
                            : last_error_);
    return;
  }
  tcp_ = std::make_unique<TcpStream>(loop_);
  timer_.Start(timeouts_.connect_ms);
  tcp_->Connect(endpoints_[next_], [this](const Status& status) { OnTcpConnected(status); });
}

void TlsConnectAttempt::OnTcpConnected(const Status& status) {
  if (!status.ok()) {
    AttemptFailed(status);
    return;
  }
  timer_.Start(timeouts_.handshake_ms);
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
  connection.handshake_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - handshake_started_).count();
  connection.stream = std::move(tls_);
  Finish(std::move(connection));
}

void TlsConnectAttempt::OnTimeout() {
  if (tls_) {
    AttemptFailed(Status(
        ErrorCode::kConnectionTimeout,
        "TLS handshake not finished within " + std::to_string(timeouts_.handshake_ms) + " ms"));
  } else {
    AttemptFailed(
        Status(ErrorCode::kConnectionTimeout,
               "connect not finished within " + std::to_string(timeouts_.connect_ms) + " ms"));
  }
}

void TlsConnectAttempt::AttemptFailed(const Status& status) {
  timer_.Stop();
  std::string where = host_ + " (" + endpoints_[next_].ToString() + ")";
  if (on_failure_) on_failure_(where, status);
  last_error_ = Status(status.code(), where + ": " + status.message());
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

void TlsConnectAttempt::Finish(Result<TlsConnection> result) {
  timer_.Stop();
  RunOnce(done_, std::move(result));
}

}  // namespace deputy
