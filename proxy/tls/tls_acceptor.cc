#include "tls/tls_acceptor.h"

#include "base/run_once.h"
#include "tls/peer_identity.h"

namespace deputy {

TlsAcceptor::TlsAcceptor(EventLoop& loop, SSL_CTX* ctx, uint32_t timeout_ms)
    : loop_(loop), ctx_(ctx), timeout_ms_(timeout_ms), timer_(loop, [this] {
        if (stream_) stream_->Close();
        Finish(Status(ErrorCode::kClientTls, "the client's TLS handshake did not finish within " +
                                                 std::to_string(timeout_ms_) + " ms"));
      }) {}

TlsAcceptor::~TlsAcceptor() { Cancel(); }

void TlsAcceptor::Cancel() {
  done_ = nullptr;
  timer_.Stop();
  if (stream_) stream_->Close();
}

void TlsAcceptor::Start(std::unique_ptr<ByteStream> transport, Buffer& received, Callback done) {
  done_ = std::move(done);
  stream_ = std::make_unique<TlsStream>(loop_, ctx_, std::move(transport));
  timer_.Start(timeout_ms_);
  stream_->Accept(received, [this](const Status& status) { OnHandshake(status); });
}

void TlsAcceptor::OnHandshake(const Status& status) {
  if (!status.ok()) {
    // The stream closed itself; it is deleted with this acceptor, after its call returns.
    Finish(Status(ErrorCode::kClientTls, "client TLS handshake failed: " + status.message()));
    return;
  }
  AcceptedTls accepted;
  accepted.client_certificate = HasVerifiedPeerCertificate(stream_->ssl());
  accepted.identities = PeerIdentities(stream_->ssl());
  accepted.stream = std::move(stream_);
  // The handshake callback runs inside the stream; it stays alive in the owner's hands.
  Finish(std::move(accepted));
}

void TlsAcceptor::Finish(Result<AcceptedTls> result) {
  timer_.Stop();
  RunOnce(done_, std::move(result));
}

}  // namespace deputy
