#include "support/tls_server.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <cstdio>
#include <exception>
#include <utility>

#include "support/die.h"

namespace deputy::test {

bssl::UniquePtr<SSL_CTX> MakeServerContext(const KeyPair& key_pair,
                                           const TlsServerOptions& options) {
  bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_method()));
  if (!ctx || !SSL_CTX_set_min_proto_version(ctx.get(), options.min_version) ||
      !SSL_CTX_set_max_proto_version(ctx.get(), options.max_version)) {
    DieSsl("server SSL_CTX");
  }
  UseKeyPair(ctx.get(), key_pair);
  return ctx;
}

TlsServer::TlsServer(const KeyPair& key_pair, Handler handler, TlsServerOptions options)
    : ctx_(MakeServerContext(key_pair, options)),
      handler_(std::move(handler)),
      options_(options),
      acceptor_([this](Socket sock, const StopEvent& stop) { Serve(std::move(sock), stop); },
                options.max_concurrent, options.address, options.port) {}

std::string TlsServer::last_sni() const {
  std::lock_guard lock(mu_);
  return last_sni_;
}

std::string TlsServer::last_handshake_error() const {
  std::lock_guard lock(mu_);
  return last_handshake_error_;
}

void TlsServer::Serve(Socket sock, const StopEvent& stop) {
  bssl::UniquePtr<SSL> ssl(SSL_new(ctx_.get()));
  if (!ssl) DieSsl("SSL_new");
  SSL_set_accept_state(ssl.get());
  TlsConnection conn(std::move(sock), std::move(ssl), stop.fd(), &bytes_received_);
  if (!conn.Handshake(options_.handshake_timeout)) {
    {
      std::lock_guard lock(mu_);
      last_handshake_error_ = conn.error();
    }
    handshake_failures_.Add();
    return;
  }
  {
    std::lock_guard lock(mu_);
    last_sni_ = conn.sni();
  }
  handshakes_.Add();
  try {
    handler_(conn);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "TlsServer handler threw: %s\n", e.what());
  }
}

}  // namespace deputy::test
