#include "tls/tls_connector.h"

#include <algorithm>
#include <optional>

#include "base/run_once.h"

namespace deputy {

namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

// Racer is one address being tried: its TCP connect, then its TLS handshake, each under its own
// timeout cut to the budget's deadline.
class TlsConnectAttempt::Racer : public Deferrable {
 public:
  Racer(TlsConnectAttempt& owner, const IpEndpoint& endpoint)
      : owner_(owner), endpoint_(endpoint), timer_(owner.loop_, [this] { OnTimeout(); }) {}

  const IpEndpoint& endpoint() const { return endpoint_; }

  void Connect() {
    tcp_ = std::make_unique<TcpStream>(owner_.loop_);
    Arm(owner_.timeouts_.connect_ms);
    connect_started_ = std::chrono::steady_clock::now();
    tcp_->Connect(endpoint_, [this](const Status& status) { OnConnected(status); });
  }

  // Close ends both streams; the racer itself is deleted later, as a stream may be inside its
  // own callback.
  void Close() {
    timer_.Stop();
    if (tcp_) tcp_->Close();
    if (tls_) tls_->Close();
  }

  TlsConnection Take() {
    TlsConnection connection;
    connection.endpoint = endpoint_;
    connection.connect_seconds = connect_seconds_;
    connection.handshake_seconds = SecondsSince(handshake_started_);
    connection.stream = std::move(tls_);
    return connection;
  }

 private:
  void Arm(uint64_t timeout_ms) {
    timer_ms_ = owner_.Cut(timeout_ms, &timer_cut_);
    timer_.Start(timer_ms_);
  }

  void OnConnected(const Status& status) {
    if (!status.ok()) {
      owner_.OnRacerFailed(*this, status);
      return;
    }
    connect_seconds_ = SecondsSince(connect_started_);
    Arm(owner_.timeouts_.handshake_ms);
    handshake_started_ = std::chrono::steady_clock::now();
    tls_ = std::make_unique<TlsStream>(owner_.loop_, owner_.ctx_, std::move(tcp_));
    tls_->Handshake(owner_.verify_name_, [this](const Status& s) { OnHandshake(s); });
  }

  void OnHandshake(const Status& status) {
    if (!status.ok()) {
      owner_.OnRacerFailed(*this, status);
      return;
    }
    timer_.Stop();
    owner_.OnRacerVerified(*this);
  }

  void OnTimeout() {
    // A step cut short by the deadline ends the whole attempt: the budget is spent.
    if (timer_cut_) owner_.limit_reached_ = Limit::kDeadline;
    owner_.OnRacerFailed(
        *this, Status(ErrorCode::kConnectionTimeout,
                      std::string(tls_ ? "TLS handshake" : "connect") + " not finished within " +
                          std::to_string(timer_ms_) + " ms"));
  }

  TlsConnectAttempt& owner_;
  const IpEndpoint endpoint_;
  std::unique_ptr<TcpStream> tcp_;
  std::unique_ptr<TlsStream> tls_;
  Timer timer_;
  uint64_t timer_ms_ = 0;
  bool timer_cut_ = false;
  std::chrono::steady_clock::time_point connect_started_;
  double connect_seconds_ = 0;
  std::chrono::steady_clock::time_point handshake_started_;
};

TlsConnectAttempt::TlsConnectAttempt(EventLoop& loop, DnsResolver& resolver,
                                     const DestinationGuard& guard, SSL_CTX* ctx,
                                     ConnectTimeouts timeouts, ConnectBudget budget)
    : loop_(loop),
      resolver_(resolver),
      guard_(guard),
      ctx_(ctx),
      timeouts_(timeouts),
      budget_(budget),
      dns_timer_(
          loop,
          [this] {
            // Only the budget times resolution here (the resolver has its own
            // dns.timeout_ms), and what ran out is still the name lookup.
            limit_reached_ = Limit::kDeadline;
            dns_.reset();
            Finish(Status(ErrorCode::kDnsTimeout, host_ + ": name resolution not finished within " +
                                                      std::to_string(dns_timer_ms_) + " ms"));
          }),
      stagger_(loop, [this] { StartNext(); }) {}

TlsConnectAttempt::~TlsConnectAttempt() {
  done_ = nullptr;
  for (const std::unique_ptr<Racer>& racer : racers_) racer->Close();
}

void TlsConnectAttempt::Start(const std::string& host, uint16_t port,
                              const std::string& verify_name, Callback done,
                              FailureObserver on_failure) {
  host_ = host;
  port_ = port;
  verify_name_ = verify_name;
  done_ = std::move(done);
  on_failure_ = std::move(on_failure);
  started_ = std::chrono::steady_clock::now();
  if (budget_.deadline != ConnectBudget::Clock::time_point::max()) {
    bool cut = false;
    dns_timer_ms_ = Cut(UINT64_MAX, &cut);
    dns_timer_.Start(dns_timer_ms_);
  }
  dns_ = resolver_.Resolve(host, port, [this](Result<std::vector<IpEndpoint>> result) {
    OnResolved(std::move(result));
  });
}

void TlsConnectAttempt::OnResolved(Result<std::vector<IpEndpoint>> result) {
  dns_seconds_ = SecondsSince(started_);
  dns_timer_.Stop();
  if (!result.ok()) {
    Finish(result.status());
    return;
  }
  endpoints_ = std::move(result).value();
  StartNext();
}

void TlsConnectAttempt::StartNext() {
  stagger_.Stop();
  if (!done_) return;
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
  // Nothing more can start; those running may still win, and the last to fail ends it.
  auto give_up = [this](Limit limit, ErrorCode code, const std::string& message) {
    if (!racers_.empty()) return;
    if (limit != Limit::kNone) limit_reached_ = limit;
    Finish(LastErrorOr(code, message));
  };
  if (limit_reached_ == Limit::kDeadline) {
    give_up(Limit::kDeadline, ErrorCode::kConnectionTimeout, host_ + ": no time left to connect");
    return;
  }
  if (next_ >= endpoints_.size()) {
    give_up(Limit::kNone, ErrorCode::kDnsError, host_ + " has no usable address");
    return;
  }
  if (ConnectBudget::Clock::now() >= budget_.deadline) {
    give_up(Limit::kDeadline, ErrorCode::kConnectionTimeout, host_ + ": no time left to connect");
    return;
  }
  if (connects_ >= budget_.max_connects) {
    give_up(Limit::kConnects, ErrorCode::kConnectionTimeout,
            host_ + ": no connection attempt left");
    return;
  }
  ++connects_;
  racers_.push_back(std::make_unique<Racer>(*this, endpoints_[next_++]));
  Racer& racer = *racers_.back();
  // Armed before the connect: one that fails at once starts the next itself, re-arming it.
  if (next_ < endpoints_.size()) stagger_.Start(timeouts_.stagger_ms);
  racer.Connect();
}

void TlsConnectAttempt::OnRacerFailed(Racer& racer, const Status& status) {
  if (on_failure_) on_failure_(host_ + " (" + racer.endpoint().ToString() + ")", status);
  // This message reaches the client: it names the host but never the address, or deputy would
  // tell anyone which addresses and ports answer.
  last_error_ = Status(status.code(), host_ + ": " + status.message());
  Retire(racer);
  // RFC 8305 section 5: a failed attempt starts the next one at once, not after the delay.
  StartNext();
}

void TlsConnectAttempt::OnRacerVerified(Racer& racer) {
  stagger_.Stop();
  TlsConnection connection = racer.Take();
  connection.dns_seconds = dns_seconds_;
  // The others lose the race: closed now, before the winner's first byte.
  while (!racers_.empty()) Retire(*racers_.back());
  Finish(std::move(connection));
}

void TlsConnectAttempt::Retire(Racer& racer) {
  auto it = std::find_if(racers_.begin(), racers_.end(),
                         [&racer](const std::unique_ptr<Racer>& r) { return r.get() == &racer; });
  if (it == racers_.end()) return;
  racer.Close();
  loop_.DeferDelete(std::move(*it));
  racers_.erase(it);
}

uint64_t TlsConnectAttempt::Cut(uint64_t timeout_ms, bool* cut) const {
  *cut = false;
  if (budget_.deadline == ConnectBudget::Clock::time_point::max()) return timeout_ms;
  auto left =
      std::chrono::ceil<std::chrono::milliseconds>(budget_.deadline - ConnectBudget::Clock::now())
          .count();
  auto left_ms = static_cast<uint64_t>(std::max<decltype(left)>(left, 0));
  if (left_ms >= timeout_ms) return timeout_ms;
  *cut = true;
  return left_ms;
}

Status TlsConnectAttempt::LastErrorOr(ErrorCode code, const std::string& message) const {
  return last_error_.ok() ? Status(code, message) : last_error_;
}

void TlsConnectAttempt::Finish(Result<TlsConnection> result) {
  dns_timer_.Stop();
  stagger_.Stop();
  RunOnce(done_, std::move(result));
}

}  // namespace deputy
