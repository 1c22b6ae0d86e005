#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "net/dns_resolver.h"
#include "net/tcp_stream.h"
#include "tls/tls_stream.h"

namespace deputy {

// A verified TLS connection, ready for application bytes.
struct TlsConnection {
  std::unique_ptr<TlsStream> stream;
  IpEndpoint endpoint;
  double handshake_seconds = 0;
};

struct ConnectTimeouts {
  uint32_t connect_ms = 5000;
  uint32_t handshake_ms = 5000;
};

// TlsConnectAttempt connects to host:port and verifies the peer as `verify_name`, trying every
// address the host resolves to, in order, until one connects and verifies. Destroying it
// cancels the attempt; the callback then never runs.
class TlsConnectAttempt : public Deferrable {
 public:
  using Callback = std::function<void(Result<TlsConnection>)>;
  // Observer hears about each failed address, for logs.
  using FailureObserver = std::function<void(const std::string& where, const Status&)>;

  TlsConnectAttempt(EventLoop& loop, DnsResolver& resolver, SSL_CTX* ctx, ConnectTimeouts timeouts);
  ~TlsConnectAttempt() override;
  TlsConnectAttempt(const TlsConnectAttempt&) = delete;
  TlsConnectAttempt& operator=(const TlsConnectAttempt&) = delete;

  void Start(const std::string& host, uint16_t port, const std::string& verify_name, Callback done,
             FailureObserver on_failure = nullptr);

 private:
  void TryNext();
  void OnTcpConnected(const Status& status);
  void OnHandshake(const Status& status);
  void OnTimeout();
  void AttemptFailed(const Status& status);
  void Finish(Result<TlsConnection> result);

  EventLoop& loop_;
  DnsResolver& resolver_;
  SSL_CTX* ctx_;
  ConnectTimeouts timeouts_;
  std::string host_;
  uint16_t port_ = 0;
  std::string verify_name_;
  Callback done_;
  FailureObserver on_failure_;
  std::unique_ptr<DnsQuery> dns_;
  std::vector<IpEndpoint> endpoints_;
  size_t next_ = 0;
  std::unique_ptr<TcpStream> tcp_;
  std::unique_ptr<TlsStream> tls_;
  Timer timer_;
  std::chrono::steady_clock::time_point handshake_started_;
  Status last_error_;
};

}  // namespace deputy
