#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/buffer.h"
#include "base/status.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "net/byte_stream.h"
#include "tls/tls_stream.h"

namespace deputy {

// A client connection whose TLS handshake has completed.
struct AcceptedTls {
  std::unique_ptr<TlsStream> stream;
  // Whether the client presented a certificate that verified, and its identities
  // (tls/peer_identity.h), which may be none even then.
  bool client_certificate = false;
  std::vector<std::string> identities;
};

// TlsAcceptor is the server side of a client's TLS handshake, the mirror of TlsConnectAttempt:
// it holds the connection until the handshake ends or `timeout_ms` passes, and then hands it
// over. Every failure is kClientTls. Destroying it closes a connection still in the handshake;
// the callback then never runs. It is Deferrable because its owner learns the outcome inside
// its callback.
class TlsAcceptor : public Deferrable {
 public:
  using Callback = std::function<void(Result<AcceptedTls>)>;

  TlsAcceptor(EventLoop& loop, SSL_CTX* ctx, uint32_t timeout_ms);
  ~TlsAcceptor() override;
  TlsAcceptor(const TlsAcceptor&) = delete;
  TlsAcceptor& operator=(const TlsAcceptor&) = delete;

  // Start takes the connection; `received` holds bytes of it read already. `done` may run
  // inside Start, when those bytes already decide the handshake.
  void Start(std::unique_ptr<ByteStream> transport, Buffer& received, Callback done);
  // Cancel closes a connection still in the handshake and drops the callback; the owner calls
  // it when it ends first, since destruction may be deferred past further events.
  void Cancel();

 private:
  void OnHandshake(const Status& status);
  void Finish(Result<AcceptedTls> result);

  EventLoop& loop_;
  SSL_CTX* ctx_;
  uint32_t timeout_ms_;
  Timer timer_;
  std::unique_ptr<TlsStream> stream_;
  Callback done_;
};

}  // namespace deputy
