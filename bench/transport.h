#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <string>

#include "support/socket.h"
#include "support/wait.h"

namespace deputy::bench {

// What a non-blocking read or write did: moved `bytes` (> 0), or needs the socket to become
// readable / writable first, or found the connection closed or broken.
enum class IoWait { kNone, kRead, kWrite, kClosed, kError };

struct IoResult {
  size_t bytes = 0;
  IoWait wait = IoWait::kNone;
};

// Transport is one non-blocking client connection, plain or TLS, so the transfer loop drives the
// tunnel through deputy and the direct TLS connection with the same code.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual int fd() const = 0;
  virtual IoResult Write(const char* data, size_t n) = 0;
  virtual IoResult Read(char* out, size_t n) = 0;
  // ShutdownWrite ends our sending direction (TLS: close_notify first); reading goes on.
  virtual bool ShutdownWrite() = 0;
};

// PlainTransport is a TCP socket (the client side of a CONNECT tunnel); it makes it non-blocking.
class PlainTransport : public Transport {
 public:
  explicit PlainTransport(test::Socket sock);
  int fd() const override { return sock_.fd(); }
  IoResult Write(const char* data, size_t n) override;
  IoResult Read(char* out, size_t n) override;
  bool ShutdownWrite() override;

 private:
  test::Socket sock_;
};

// TlsTransport is an established TLS client connection over a non-blocking socket.
class TlsTransport : public Transport {
 public:
  TlsTransport(test::Socket sock, bssl::UniquePtr<SSL> ssl);
  int fd() const override { return sock_.fd(); }
  IoResult Write(const char* data, size_t n) override;
  IoResult Read(char* out, size_t n) override;
  bool ShutdownWrite() override;

 private:
  IoResult Outcome(int rc);

  test::Socket sock_;
  bssl::UniquePtr<SSL> ssl_;
};

// DirectTlsClient connects straight to a TLS server the way deputy does upstream: one shared
// context, the chain verified against the CA, the name against `verify_name`, SNI set, no
// session resumption.
class DirectTlsClient {
 public:
  // Dies (the bench cannot run without it) if `ca_pem` does not load.
  explicit DirectTlsClient(const std::string& ca_pem);

  // Connect opens a TCP connection to 127.0.0.1:`port` and completes a verified handshake; null
  // with `*error` set on failure.
  std::unique_ptr<TlsTransport> Connect(uint16_t port, const std::string& verify_name,
                                        test::Millis timeout, std::string* error) const;

 private:
  bssl::UniquePtr<SSL_CTX> ctx_;
};

}  // namespace deputy::bench
