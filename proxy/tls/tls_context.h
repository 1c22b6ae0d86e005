#pragma once

#include <openssl/ssl.h>

#include <string>

#include "base/status.h"
#include "tls/tls_version.h"

namespace deputy {

// TlsClientContext is an SSL_CTX for outgoing connections that always verifies the peer: chain
// to the configured trust anchors, minimum protocol version, and (per connection, in TlsStream)
// the expected name.
class TlsClientContext {
 public:
  // Create loads `ca_file` (PEM bundle) and sets `min_version`; `alpn` may be empty.
  static Result<TlsClientContext> Create(const std::string& ca_file, TlsVersion min_version,
                                         const std::string& alpn = "");

  SSL_CTX* get() const { return ctx_.get(); }

 private:
  explicit TlsClientContext(bssl::UniquePtr<SSL_CTX> ctx) : ctx_(std::move(ctx)) {}

  bssl::UniquePtr<SSL_CTX> ctx_;
};

// DrainSslErrors empties BoringSSL's thread-local error queue and describes its first entry.
std::string DrainSslErrors();

}  // namespace deputy
