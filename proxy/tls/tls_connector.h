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

// Per address: the TCP connect, then the TLS handshake; and how long one address gets before
// the next is tried beside it (RFC 8305's Connection Attempt Delay).
struct ConnectTimeouts {
  uint32_t connect_ms = 5000;
  uint32_t handshake_ms = 5000;
  uint32_t stagger_ms = 250;
};

// ConnectBudget bounds an attempt as a whole: at most `max_connects` TCP connects (one per
// address tried), and every step, name resolution included, ends by `deadline` (each step's own
// timeout is cut to what is left). The default is unbounded.
struct ConnectBudget {
  using Clock = std::chrono::steady_clock;
  uint32_t max_connects = UINT32_MAX;
  Clock::time_point deadline = Clock::time_point::max();
};

// TlsConnectAttempt connects to host:port and verifies the peer as `verify_name`, racing the
// addresses the host resolves to as RFC 8305 (Happy Eyeballs v2) says: in the resolver's order
// (IPv6 first, the families alternating), the next one started when the one before has had
// `stagger_ms` without verifying or as soon as it fails; the first to finish both the TCP
// connect and the TLS verification wins and the others are closed. Addresses the guard
// prohibits are skipped without a connect (and cost no attempt). Destroying it cancels the
// attempt; the callback then never runs. Failure messages name the host, never the addresses
// (they reach clients); the observer hears the addresses.
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
  class Racer;

  void OnResolved(Result<std::vector<IpEndpoint>> result);
  // StartNext starts the next permitted address, or, when none can start and none is running,
  // ends the attempt with the last failure.
  void StartNext();
  void OnRacerFailed(Racer& racer, const Status& status);
  void OnRacerVerified(Racer& racer);
  void Retire(Racer& racer);
  void Finish(Result<TlsConnection> result);
  // Cut is `timeout_ms` cut to what the deadline leaves; `*cut` says whether it was.
  uint64_t Cut(uint64_t timeout_ms, bool* cut) const;
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
  Timer dns_timer_;  // the budget's deadline while resolving
  uint64_t dns_timer_ms_ = 0;
  std::vector<IpEndpoint> endpoints_;
  size_t next_ = 0;
  std::vector<std::unique_ptr<Racer>> racers_;
  Timer stagger_;
  std::chrono::steady_clock::time_point started_;
  double dns_seconds_ = 0;
  Status last_error_;
  uint32_t connects_ = 0;
  Limit limit_reached_ = Limit::kNone;
};

}  // namespace deputy
