#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "support/acceptor.h"
#include "support/counter.h"
#include "support/tcp_server.h"
#include "support/test_pki.h"
#include "support/tls_connection.h"

namespace deputy::test {

struct TlsServerOptions {
  uint16_t min_version = TLS1_2_VERSION;
  uint16_t max_version = TLS1_3_VERSION;
  Millis handshake_timeout = kDefaultTimeout;
  int max_concurrent = 256;
  uint32_t address = INADDR_LOOPBACK;  // host order; any of 127.0.0.0/8
  uint16_t port = 0;                   // 0: any free port
};

// MakeServerContext is a server SSL_CTX presenting `key_pair` (leaf first, then any chain) with
// the versions `options` allow; it dies if the key pair does not load.
bssl::UniquePtr<SSL_CTX> MakeServerContext(const KeyPair& key_pair,
                                           const TlsServerOptions& options);

// TlsServer is a blocking TLS server on 127.0.0.1 (port 0) presenting `key_pair` (leaf first,
// then any chain). Each accepted connection gets a thread that completes the handshake and then
// runs `handler`; the connection closes when the handler returns. The destructor stops the
// server: waits inside handlers end at once (through the connection's stop fd) and every thread
// is joined.
class TlsServer {
 public:
  using Handler = std::function<void(TlsConnection&)>;

  TlsServer(const KeyPair& key_pair, Handler handler, TlsServerOptions options = {});
  ~TlsServer() { Stop(); }
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  uint16_t port() const { return acceptor_.port(); }
  // Counts: TCP connections accepted, handshakes completed and failed, application bytes read
  // by handlers.
  const Counter& accepted() const { return acceptor_.accepted(); }
  const Counter& handshakes() const { return handshakes_; }
  const Counter& handshake_failures() const { return handshake_failures_; }
  const Counter& bytes_received() const { return bytes_received_; }
  // The SNI of the latest completed handshake, and the error of the latest failed one.
  std::string last_sni() const;
  std::string last_handshake_error() const;

  void Stop() { acceptor_.Stop(); }

 private:
  void Serve(Socket sock, const StopEvent& stop);

  bssl::UniquePtr<SSL_CTX> ctx_;
  Handler handler_;
  TlsServerOptions options_;
  Counter handshakes_;
  Counter handshake_failures_;
  Counter bytes_received_;
  mutable std::mutex mu_;
  std::string last_sni_;
  std::string last_handshake_error_;
  Acceptor acceptor_;  // last: it stops first and joins the threads using the members above
};

}  // namespace deputy::test
