#include "bench/transport.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <utility>

#include "support/client.h"
#include "support/die.h"

namespace deputy::bench {

namespace {

// A non-blocking call that failed only because the socket was not ready (or a signal came).
bool WouldBlock() { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR; }

}  // namespace

PlainTransport::PlainTransport(test::Socket sock) : sock_(std::move(sock)) {
  if (!test::SetNonBlocking(sock_.fd(), true)) test::DieErrno("O_NONBLOCK");
}

IoResult PlainTransport::Write(const char* data, size_t n) {
  ssize_t sent = send(sock_.fd(), data, n, MSG_NOSIGNAL);
  if (sent > 0) return {static_cast<size_t>(sent), IoWait::kNone};
  return {0, WouldBlock() ? IoWait::kWrite : IoWait::kError};
}

IoResult PlainTransport::Read(char* out, size_t n) {
  ssize_t got = recv(sock_.fd(), out, n, 0);
  if (got > 0) return {static_cast<size_t>(got), IoWait::kNone};
  if (got == 0) return {0, IoWait::kClosed};
  return {0, WouldBlock() ? IoWait::kRead : IoWait::kError};
}

bool PlainTransport::ShutdownWrite() { return shutdown(sock_.fd(), SHUT_WR) == 0; }

TlsTransport::TlsTransport(test::Socket sock, bssl::UniquePtr<SSL> ssl)
    : sock_(std::move(sock)), ssl_(std::move(ssl)) {}

IoResult TlsTransport::Outcome(int rc) {
  if (rc > 0) return {static_cast<size_t>(rc), IoWait::kNone};
  switch (SSL_get_error(ssl_.get(), rc)) {
    case SSL_ERROR_WANT_READ:
      return {0, IoWait::kRead};
    case SSL_ERROR_WANT_WRITE:
      return {0, IoWait::kWrite};
    case SSL_ERROR_ZERO_RETURN:
      return {0, IoWait::kClosed};
    default:
      ERR_clear_error();
      return {0, IoWait::kError};
  }
}

IoResult TlsTransport::Write(const char* data, size_t n) {
  return Outcome(SSL_write(ssl_.get(), data, static_cast<int>(n)));
}

IoResult TlsTransport::Read(char* out, size_t n) {
  return Outcome(SSL_read(ssl_.get(), out, static_cast<int>(n)));
}

bool TlsTransport::ShutdownWrite() {
  // close_notify fits in the empty socket buffer of a connection whose transfer has finished.
  if (SSL_shutdown(ssl_.get()) < 0) {
    ERR_clear_error();
    return false;
  }
  return shutdown(sock_.fd(), SHUT_WR) == 0;
}

DirectTlsClient::DirectTlsClient(const std::string& ca_pem) : ctx_(SSL_CTX_new(TLS_method())) {
  if (!ctx_ || !SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION) ||
      !SSL_CTX_set_max_proto_version(ctx_.get(), TLS1_3_VERSION)) {
    test::DieSsl("client SSL_CTX");
  }
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
  bssl::UniquePtr<X509> ca(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!ca || !X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx_.get()), ca.get())) {
    test::DieSsl("client trust anchor");
  }
  SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
}

std::unique_ptr<TlsTransport> DirectTlsClient::Connect(uint16_t port,
                                                       const std::string& verify_name,
                                                       test::Millis timeout,
                                                       std::string* error) const {
  test::Deadline deadline(timeout);
  bssl::UniquePtr<SSL> ssl(SSL_new(ctx_.get()));
  if (!ssl || !SSL_set_tlsext_host_name(ssl.get(), verify_name.c_str()) ||
      !X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl.get()), verify_name.data(),
                                   verify_name.size())) {
    *error = "SSL setup: " + test::SslErrorString();
    return nullptr;
  }
  // The transfer loop resumes a partial write from a later point of its pattern buffer.
  SSL_set_mode(ssl.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  test::Socket sock = test::ConnectTcp(port, timeout);
  if (!sock.valid() || !test::SetNonBlocking(sock.fd(), true) ||
      !SSL_set_fd(ssl.get(), sock.fd())) {
    *error = "cannot connect to port " + std::to_string(port);
    return nullptr;
  }
  SSL_set_connect_state(ssl.get());
  for (;;) {
    int rc = SSL_do_handshake(ssl.get());
    if (rc == 1) break;
    short events = 0;
    switch (SSL_get_error(ssl.get(), rc)) {
      case SSL_ERROR_WANT_READ:
        events = POLLIN;
        break;
      case SSL_ERROR_WANT_WRITE:
        events = POLLOUT;
        break;
      default:
        *error = "handshake: " + test::SslErrorString();
        return nullptr;
    }
    if (test::WaitFd(sock.fd(), events, deadline) != test::WaitResult::kReady) {
      *error = "handshake timed out";
      return nullptr;
    }
  }
  return std::make_unique<TlsTransport>(std::move(sock), std::move(ssl));
}

}  // namespace deputy::bench
