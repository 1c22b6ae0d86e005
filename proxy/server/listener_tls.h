#pragma once

#include <openssl/ssl.h>

#include <map>
#include <mutex>

#include "config/config.h"
#include "tls/tls_server_context.h"

namespace deputy {

// ListenerTls holds the server context of every TLS listener: replaced by the main thread on
// SIGHUP, shared out by workers on accept. A connection keeps the context it was accepted with.
class ListenerTls {
 public:
  void Set(const ListenerConfig& listener, TlsServerContext context);
  // Share is a reference to the listener's context, or null for a listener without TLS.
  bssl::UniquePtr<SSL_CTX> Share(const ListenerConfig& listener) const;

 private:
  mutable std::mutex mutex_;
  std::map<const ListenerConfig*, TlsServerContext> contexts_;
};

}  // namespace deputy
