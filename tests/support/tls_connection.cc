#include "support/tls_connection.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include "support/client.h"
#include "support/die.h"

namespace deputy::test {

TlsConnection::TlsConnection(Socket sock, bssl::UniquePtr<SSL> ssl, int stop_fd,
                             Counter* bytes_received)
    : sock_(std::move(sock)),
      ssl_(std::move(ssl)),
      stop_fd_(stop_fd),
      bytes_received_(bytes_received) {
  if (!SSL_set_fd(ssl_.get(), sock_.fd())) DieSsl("SSL_set_fd");
  // Retrying a partial write with a later part of the caller's buffer is how WriteAll proceeds.
  SSL_set_mode(ssl_.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

template <typename Op>
int TlsConnection::Drive(Op op, const Deadline& deadline) {
  for (;;) {
    ERR_clear_error();
    errno = 0;
    int ret = op();
    if (ret > 0) {
      last_status_ = IoStatus::kOk;
      return ret;
    }
    short events = 0;
    switch (SSL_get_error(ssl_.get(), ret)) {
      case SSL_ERROR_WANT_READ:
        events = POLLIN;
        break;
      case SSL_ERROR_WANT_WRITE:
        events = POLLOUT;
        break;
      case SSL_ERROR_ZERO_RETURN:
        peer_closed_ = true;
        close_notify_received_ = true;
        last_status_ = IoStatus::kClosed;
        return 0;
      case SSL_ERROR_SYSCALL:
        if (ret == 0 && ERR_peek_error() == 0 && errno == 0) {
          peer_closed_ = true;
          last_status_ = IoStatus::kClosed;
          return 0;
        }
        error_ = errno != 0 ? std::strerror(errno) : SslErrorString();
        last_status_ = IoStatus::kError;
        return -1;
      default:
        error_ = SslErrorString();
        last_status_ = IoStatus::kError;
        return -1;
    }
    switch (WaitFd(sock_.fd(), events, deadline, stop_fd_)) {
      case WaitResult::kReady:
        break;
      case WaitResult::kTimeout:
        error_ = "timed out";
        last_status_ = IoStatus::kTimeout;
        return -1;
      case WaitResult::kStopped:
        error_ = "server stopping";
        last_status_ = IoStatus::kStopped;
        return -1;
      case WaitResult::kError:
        error_ = std::strerror(errno);
        last_status_ = IoStatus::kError;
        return -1;
    }
  }
}

bool TlsConnection::Handshake(Millis timeout) {
  Deadline deadline(timeout);
  int ret = Drive([this] { return SSL_do_handshake(ssl_.get()); }, deadline);
  if (ret == 0) {
    error_ = "peer closed during the handshake";
    last_status_ = IoStatus::kError;
  }
  return ret > 0;
}

ssize_t TlsConnection::ReadSome(void* buf, size_t n, Millis timeout) {
  Deadline deadline(timeout);
  int len = static_cast<int>(std::min<size_t>(n, 1 << 30));
  int ret = Drive([&] { return SSL_read(ssl_.get(), buf, len); }, deadline);
  if (ret > 0 && bytes_received_ != nullptr) bytes_received_->Add(static_cast<uint64_t>(ret));
  return ret;
}

bool TlsConnection::ReadExact(void* buf, size_t n, Millis timeout) {
  return ReadExactly(*this, buf, n, timeout);
}

bool TlsConnection::ReadUntilClose(std::string* out, Millis timeout) {
  Deadline deadline(timeout);
  char buf[16384];
  for (;;) {
    ssize_t got = ReadSome(buf, sizeof(buf), deadline.Remaining());
    if (got == 0) return true;
    if (got < 0) return false;
    out->append(buf, static_cast<size_t>(got));
  }
}

bool TlsConnection::WriteAll(std::string_view data, Millis timeout) {
  Deadline deadline(timeout);
  while (!data.empty()) {
    int len = static_cast<int>(std::min<size_t>(data.size(), 1 << 30));
    int ret = Drive([&] { return SSL_write(ssl_.get(), data.data(), len); }, deadline);
    if (ret <= 0) {
      if (ret == 0) {
        error_ = "peer closed while writing";
        last_status_ = IoStatus::kError;
      }
      return false;
    }
    data.remove_prefix(static_cast<size_t>(ret));
  }
  return true;
}

bool TlsConnection::ShutdownWrite(Millis timeout) {
  Deadline deadline(timeout);
  // SSL_shutdown returns 0 once close_notify is sent (1 if the peer's had arrived too); only
  // -1 is a failure, so map success to 1 for Drive.
  int ret = Drive(
      [this] {
        int r = SSL_shutdown(ssl_.get());
        return r >= 0 ? 1 : r;
      },
      deadline);
  if (ret <= 0) return false;
  if (shutdown(sock_.fd(), SHUT_WR) != 0) {
    error_ = std::strerror(errno);
    last_status_ = IoStatus::kError;
    return false;
  }
  return true;
}

bool TlsConnection::Pause(Millis duration) const {
  if (stop_fd_ < 0) {
    std::this_thread::sleep_for(duration);
    return true;
  }
  Deadline deadline(duration);
  pollfd fd = {stop_fd_, POLLIN, 0};
  for (;;) {
    int n = poll(&fd, 1, deadline.PollTimeoutMs());
    if (n > 0) return false;
    if (deadline.expired()) return true;
  }
}

std::string TlsConnection::sni() const {
  const char* name = SSL_get_servername(ssl_.get(), TLSEXT_NAMETYPE_host_name);
  return name != nullptr ? name : "";
}

namespace {

bool IsIpLiteral(const std::string& name) {
  in6_addr addr6;
  in_addr addr4;
  return inet_pton(AF_INET, name.c_str(), &addr4) == 1 ||
         inet_pton(AF_INET6, name.c_str(), &addr6) == 1;
}

bool AddTrustAnchors(SSL_CTX* ctx, const std::string& pem) {
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  int added = 0;
  while (bssl::UniquePtr<X509> cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    if (!X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), cert.get())) return false;
    ++added;
  }
  ERR_clear_error();  // the read that ends the loop leaves "no start line" behind
  return added > 0;
}

}  // namespace

std::unique_ptr<TlsConnection> ConnectTls(uint16_t port, const TlsClientOptions& options,
                                          std::string* error) {
  Socket sock = ConnectTcp(port, options.timeout);
  if (!sock.valid()) {
    *error = "cannot connect to port " + std::to_string(port);
    return nullptr;
  }
  return StartTls(std::move(sock), options, error);
}

std::unique_ptr<TlsConnection> StartTls(Socket sock, const TlsClientOptions& options,
                                        std::string* error) {
  Deadline deadline(options.timeout);
  bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_method()));
  if (!ctx || !SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) ||
      !SSL_CTX_set_max_proto_version(ctx.get(), options.max_version)) {
    *error = "SSL_CTX: " + SslErrorString();
    return nullptr;
  }
  if (!options.ca_pem.empty()) {
    if (!AddTrustAnchors(ctx.get(), options.ca_pem)) {
      *error = "bad CA PEM: " + SslErrorString();
      return nullptr;
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  }
  if (options.client_cert) UseKeyPair(ctx.get(), *options.client_cert);
  bssl::UniquePtr<SSL> ssl(SSL_new(ctx.get()));
  if (!ssl) {
    *error = "SSL_new: " + SslErrorString();
    return nullptr;
  }
  SSL_set_connect_state(ssl.get());
  if (!options.sni.empty() && !SSL_set_tlsext_host_name(ssl.get(), options.sni.c_str())) {
    *error = "SNI: " + SslErrorString();
    return nullptr;
  }
  if (!options.verify_name.empty()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
    bool set = IsIpLiteral(options.verify_name)
                   ? X509_VERIFY_PARAM_set1_ip_asc(param, options.verify_name.c_str())
                   : X509_VERIFY_PARAM_set1_host(param, options.verify_name.data(),
                                                 options.verify_name.size());
    if (!set) {
      *error = "verify name: " + SslErrorString();
      return nullptr;
    }
  }
  if (!options.preamble.empty() && !SendAll(sock.fd(), options.preamble, deadline.Remaining())) {
    *error = "cannot send the preamble";
    return nullptr;
  }
  if (!SetNonBlocking(sock.fd(), true)) {
    *error = "cannot make the socket non-blocking";
    return nullptr;
  }
  auto conn = std::make_unique<TlsConnection>(std::move(sock), std::move(ssl));
  if (!conn->Handshake(deadline.Remaining())) {
    *error = "handshake: " + conn->error();
    long verify = SSL_get_verify_result(conn->ssl());
    if (verify != X509_V_OK) {
      *error += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
    }
    return nullptr;
  }
  return conn;
}

}  // namespace deputy::test
