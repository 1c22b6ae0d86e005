#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <string>

#include "base/status.h"
#include "tls/tls_server_settings.h"

namespace deputy {

// TlsServerContext is the SSL_CTX for the server side of client connections. Connections hold
// their own reference to the SSL_CTX, so replacing a context (a reload) leaves the handshakes
// and tunnels made with the old one as they are.
class TlsServerContext {
 public:
  // Create reads the certificate chain, the key (which must match it) and the client CA file.
  // Errors are kInvalidConfig and name the file.
  static Result<TlsServerContext> Create(const TlsServerSettings& settings);

  SSL_CTX* get() const { return ctx_.get(); }
  // Share is another reference to the SSL_CTX, for a connection that must keep this context
  // whatever replaces it later.
  bssl::UniquePtr<SSL_CTX> Share() const {
    SSL_CTX_up_ref(ctx_.get());
    return bssl::UniquePtr<SSL_CTX>(ctx_.get());
  }
  // The leaf certificate's notAfter, in seconds since the epoch, for the expiry metric.
  int64_t not_after() const { return not_after_; }

 private:
  TlsServerContext(bssl::UniquePtr<SSL_CTX> ctx, int64_t not_after)
      : ctx_(std::move(ctx)), not_after_(not_after) {}

  bssl::UniquePtr<SSL_CTX> ctx_;
  int64_t not_after_ = 0;
};

}  // namespace deputy
