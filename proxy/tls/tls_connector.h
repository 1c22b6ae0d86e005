#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "net/destination_guard.h"
#include "net/dns_resolver.h"
#include "net/tcp_stream.h"
#include "tls/tls_stream.h"

namespace deputy {

// A verified TLS connection, ready for application bytes.
struct TlsConnection {
  std::unique_ptr<TlsStream> stream;
  IpEndpoint endpoint;
  double dns_seconds = 0;        // resolving the host, before the first connect
  double connect_seconds = 0;    // the TCP connect to `endpoint`
  double handshake_seconds = 0;  // TLS handshake and verification on it
};

// Per address: the TCP connect, then the TLS handshake.
struct ConnectTimeouts {
  uint32_t connect_ms = 5000;
  uint32_t handshake_ms = 5000;
};

// ConnectBudget bounds an attempt as a whole: at most `max_connects` TCP connects (one per
// address tried), and every step, name resolution included, ends by `deadline` (each step's own
// timeout is cut to what is left). The default is unbounded.
struct ConnectBudget {
  using Clock = std::chrono::steady_clock;
  uint32_t max_connects = UINT32_MAX;
  Clock::time_point deadline = Clock::time_point::max();
};

// TlsConnectAttempt connects to host:port and verifies the peer as `verify_name`, trying every
// address the host resolves to, in order, until one connects and verifies or the budget is
// spent. Addresses the guard prohibits are skipped without a connect (and cost no attempt).
// Destroying it cancels the attempt; the callback then never runs. Failure messages name the host,
// never the addresses (they reach clients); the observer hears the addresses.
class TlsConnectAttempt : public Deferrable {
 public:
  using Callback = std::function<void(Result<TlsConnection>)>;
  // Observer hears about each failed address, for logs.
  using FailureObserver = std::function<void(const std::string& where, const Status&)>;
  // Which part of the budget ended a failed attempt before every address was tried.
  enum class Limit { kNone, kConnects, kDeadline };

  TlsConnectAttempt(EventLoop& loop, DnsResolver& resolver, const DestinationGuard& guard,
                    SSL_CTX* ctx, ConnectTimeouts timeouts, ConnectBudget budget = {});
  ~TlsConnectAttempt() override;
  TlsConnectAttempt(const TlsConnectAttempt&) = delete;
  TlsConnectAttempt& operator=(const TlsConnectAttempt&) = delete;

  void Start(const std::string& host, uint16_t port, const std::string& verify_name, Callback done,
             FailureObserver on_failure = nullptr);

  // TCP connects started so far, and the limit that ended the attempt, if one did.
  uint32_t connects() const { return connects_; }
  Limit limit_reached() const { return limit_reached_; }

 private:
  void TryNext();
  void OnTcpConnected(const Status& status);
  void OnHandshake(const Status& status);
  void OnTimeout();
  void AttemptFailed(const Status& status);
  void Finish(Result<TlsConnection> result);
  // StartTimer arms the step timer with `timeout_ms`, cut to what the deadline leaves.
  void StartTimer(uint64_t timeout_ms);
  // LastErrorOr is the last address's failure, or (code, message) when no address was tried.
  Status LastErrorOr(ErrorCode code, const std::string& message) const;

  EventLoop& loop_;
  DnsResolver& resolver_;
  const DestinationGuard& guard_;
  SSL_CTX* ctx_;
  ConnectTimeouts timeouts_;
  ConnectBudget budget_;
  std::string host_;
  uint16_t port_ = 0;
  std::string verify_name_;
  Callback done_;
  FailureObserver on_failure_;
  std::unique_ptr<DnsQuery> dns_;
  bool resolved_ = false;
  std::vector<IpEndpoint> endpoints_;
  size_t next_ = 0;
  std::unique_ptr<TcpStream> tcp_;
  std::unique_ptr<TlsStream> tls_;
  Timer timer_;
  uint64_t timer_ms_ = 0;
  bool timer_cut_ = false;  // the running step timer ends at the deadline, not its own timeout
  std::chrono::steady_clock::time_point started_;
  double dns_seconds_ = 0;
  std::chrono::steady_clock::time_point connect_started_;
  double connect_seconds_ = 0;
  std::chrono::steady_clock::time_point handshake_started_;
  Status last_error_;
  uint32_t connects_ = 0;
  Limit limit_reached_ = Limit::kNone;
};

}  // namespace deputy
