#pragma once

#include <openssl/ssl.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "support/counter.h"
#include "support/socket.h"
#include "support/test_pki.h"
#include "support/wait.h"

namespace deputy::test {

// IoStatus says how the last operation on a connection ended.
enum class IoStatus { kOk, kClosed, kTimeout, kStopped, kError };

// TlsConnection is a blocking TLS connection over a non-blocking socket: every call waits with
// poll(2) until its timeout, and also ends early when the optional stop fd becomes readable (the
// servers pass their stop event so a test's teardown never waits on a handler). Used by one
// thread at a time.
class TlsConnection {
 public:
  // `ssl` is attached to `sock` here. `bytes_received`, when given, counts application bytes
  // read.
  TlsConnection(Socket sock, bssl::UniquePtr<SSL> ssl, int stop_fd = -1,
                Counter* bytes_received = nullptr);
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  // Handshake runs the TLS handshake in the role SSL was given (connect or accept state).
  bool Handshake(Millis timeout = kDefaultTimeout);

  // ReadSome returns the number of bytes read (> 0), 0 once the peer sent close_notify or closed
  // the TCP connection, or -1 on error, timeout or stop (see last_status()).
  ssize_t ReadSome(void* buf, size_t n, Millis timeout = kDefaultTimeout);
  // ReadExact reads exactly `n` bytes within `timeout`.
  bool ReadExact(void* buf, size_t n, Millis timeout = kDefaultTimeout);
  // ReadUntilClose appends everything up to the peer's close to `out`; false if it ended by an
  // error, the timeout or stop instead.
  bool ReadUntilClose(std::string* out, Millis timeout = kDefaultTimeout);
  // WriteAll writes every byte of `data` within `timeout`.
  bool WriteAll(std::string_view data, Millis timeout = kDefaultTimeout);
  // ShutdownWrite sends close_notify, then shuts down the TCP write side. Reading stays possible.
  bool ShutdownWrite(Millis timeout = kDefaultTimeout);

  // Pause waits for `duration` (a deliberate delay, not synchronisation); false if the stop fd
  // fired first.
  bool Pause(Millis duration) const;

  // sni is the server name the client sent (server side; empty if none).
  std::string sni() const;
  // peer_closed is true once a read saw close_notify or EOF; close_notify_received only for the
  // clean TLS close.
  bool peer_closed() const { return peer_closed_; }
  bool close_notify_received() const { return close_notify_received_; }
  IoStatus last_status() const { return last_status_; }
  // error describes the last failure (BoringSSL's error queue or errno), for test messages.
  const std::string& error() const { return error_; }
  std::string version() const { return SSL_get_version(ssl_.get()); }
  int fd() const { return sock_.fd(); }
  SSL* ssl() const { return ssl_.get(); }

 private:
  // Drive repeats `op` (an SSL call) until it returns > 0, waiting for the socket as BoringSSL
  // asks. Returns the op's result, 0 for a peer close, or -1 with last_status_ set.
  template <typename Op>
  int Drive(Op op, const Deadline& deadline);

  Socket sock_;
  bssl::UniquePtr<SSL> ssl_;
  int stop_fd_;
  Counter* bytes_received_;
  bool peer_closed_ = false;
  bool close_notify_received_ = false;
  IoStatus last_status_ = IoStatus::kOk;
  std::string error_;
};

struct TlsClientOptions {
  std::string ca_pem;       // trust anchors; empty: the server certificate is not verified
  std::string verify_name;  // DNS name or IP literal the certificate must be valid for
  std::string sni;          // server name to send; empty: none
  uint16_t max_version = TLS1_3_VERSION;
  Millis timeout = kDefaultTimeout;    // for connect and handshake together
  std::optional<KeyPair> client_cert;  // presented when the server asks for one
  std::string preamble;                // sent in the clear before the handshake (a PROXY header)
};

// ConnectTls connects to 127.0.0.1:`port` and completes a verified TLS handshake. On failure it
// returns null and describes why in `*error`.
std::unique_ptr<TlsConnection> ConnectTls(uint16_t port, const TlsClientOptions& options,
                                          std::string* error);
// StartTls is ConnectTls over `sock`, a blocking socket connected already.
std::unique_ptr<TlsConnection> StartTls(Socket sock, const TlsClientOptions& options,
                                        std::string* error);

}  // namespace deputy::test
