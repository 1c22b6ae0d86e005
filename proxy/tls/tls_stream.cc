#include "tls/tls_stream.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "base/run_once.h"
#include "net/address.h"
#include "tls/tls_context.h"

namespace deputy {

namespace {

// How much plaintext one ReadRecords pass hands upward before giving the loop a turn.
constexpr size_t kMaxPlaintextPerPass = 64 * 1024;

}  // namespace

TlsStream::TlsStream(EventLoop& loop, SSL_CTX* ctx, std::unique_ptr<ByteStream> transport)
    : transport_(std::move(transport)),
      ssl_(SSL_new(ctx)),
      resume_reading_(loop, [this] { ReadRecords(); }) {
  transport_->SetCallbacks(this);
}

TlsStream::~TlsStream() { Close(); }

const BIO_METHOD* TlsStream::BufferBioMethod() {
  static const BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "deputy buffer");
    BIO_meth_set_read(m, &TlsStream::BioRead);
    BIO_meth_set_write(m, &TlsStream::BioWrite);
    BIO_meth_set_ctrl(
        m, [](BIO*, int cmd, long, void*) -> long { return cmd == BIO_CTRL_FLUSH ? 1 : 0; });
    return m;
  }();
  return method;
}

int TlsStream::BioRead(BIO* bio, char* out, int len) {
  auto* self = static_cast<TlsStream*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (self->ciphertext_in_.empty()) {
    BIO_set_retry_read(bio);
    return -1;
  }
  size_t n = self->ciphertext_in_.CopyOut(out, static_cast<size_t>(len));
  self->ciphertext_in_.Drain(n);
  return static_cast<int>(n);
}

int TlsStream::BioWrite(BIO* bio, const char* in, int len) {
  auto* self = static_cast<TlsStream*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  self->ciphertext_out_.Append(in, static_cast<size_t>(len));
  return len;
}

bool TlsStream::AttachBuffers() {
  if (!ssl_) {
    FinishHandshake(Status(ErrorCode::kInternal, "SSL_new: " + DrainSslErrors()));
    return false;
  }
  BIO* bio = BIO_new(BufferBioMethod());
  BIO_set_data(bio, this);
  BIO_set_init(bio, 1);
  BIO_up_ref(bio);
  SSL_set0_rbio(ssl_.get(), bio);
  SSL_set0_wbio(ssl_.get(), bio);
  return true;
}

void TlsStream::Accept(Buffer& received, HandshakeCallback done) {
  handshake_done_ = std::move(done);
  if (!AttachBuffers()) return;
  SSL_set_accept_state(ssl_.get());
  ciphertext_in_.MoveFrom(received);
  transport_->SetReadEnabled(true);
  ContinueHandshake();
}

void TlsStream::Handshake(const std::string& verify_name, HandshakeCallback done) {
  handshake_done_ = std::move(done);
  if (!AttachBuffers()) return;

  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_.get());
  // RFC 9525: subjectAltName only, no common-name fallback. BoringSSL refuses partial wildcards
  // whatever the flags (its NO_PARTIAL_WILDCARDS is 0).
  X509_VERIFY_PARAM_set_hostflags(
      param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  bool is_ip = ParseIpLiteral(verify_name, 0).has_value();
  int name_ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, verify_name.c_str())
                      : X509_VERIFY_PARAM_set1_host(param, verify_name.data(), verify_name.size());
  if (!name_ok || (!is_ip && !SSL_set_tlsext_host_name(ssl_.get(), verify_name.c_str()))) {
    FinishHandshake(Status(ErrorCode::kInternal, "cannot set expected name " + verify_name));
    return;
  }
  SSL_set_connect_state(ssl_.get());
  transport_->SetReadEnabled(true);
  ContinueHandshake();
}

void TlsStream::ContinueHandshake() {
  int rc = SSL_do_handshake(ssl_.get());
  FlushCiphertext();
  if (closed_) return;
  if (rc == 1) {
    handshake_complete_ = true;
    version_ = SSL_get_version(ssl_.get());
    if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_.get())) {
      cipher_ = SSL_CIPHER_get_name(cipher);
    }
    // Reading resumes when the owner wants plaintext.
    transport_->SetReadEnabled(false);
    read_enabled_ = false;
    FinishHandshake(Status::Ok());
    return;
  }
  int error = SSL_get_error(ssl_.get(), rc);
  if (error == SSL_ERROR_WANT_READ) {
    if (transport_eof_) {
      Fail(Status(ErrorCode::kTlsProtocolError,
                  "peer closed the connection during the TLS handshake"));
    }
    return;
  }
  Fail(DescribeFailure(error, "TLS handshake"));
}

Status TlsStream::DescribeFailure(int ssl_error, const char* during) {
  // The verify result alone is no evidence: it reads "invalid call" until verification has run,
  // e.g. when the versions did not match. The library's own reason says whether it was the
  // certificate.
  uint32_t first = ERR_peek_error();
  if (ERR_GET_LIB(first) == ERR_LIB_SSL &&
      ERR_GET_REASON(first) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
    long verify = SSL_get_verify_result(ssl_.get());
    ERR_clear_error();
    return Status(ErrorCode::kTlsCertificateError,
                  std::string("certificate rejected: ") + X509_verify_cert_error_string(verify));
  }
  if (ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_ZERO_RETURN) {
    ERR_clear_error();
    return Status(ErrorCode::kTlsProtocolError, std::string(during) + ": connection closed");
  }
  return Status(ErrorCode::kTlsProtocolError, std::string(during) + ": " + DrainSslErrors());
}

void TlsStream::FinishHandshake(const Status& status) { RunOnce(handshake_done_, status); }

void TlsStream::FlushCiphertext() {
  if (!ciphertext_out_.empty() && !closed_) transport_->Write(ciphertext_out_);
}

void TlsStream::Write(Buffer& data) {
  if (closed_ || write_shutdown_ || !handshake_complete_) {
    data.Clear();
    return;
  }
  while (!data.empty()) {
    std::span<const uint8_t> run = data.Front();
    int chunk = static_cast<int>(std::min<size_t>(run.size(), 1 << 30));
    int rc = SSL_write(ssl_.get(), run.data(), chunk);
    if (rc <= 0) {
      data.Clear();
      Fail(DescribeFailure(SSL_get_error(ssl_.get(), rc), "TLS write"));
      return;
    }
    data.Drain(static_cast<size_t>(rc));
  }
  FlushCiphertext();
}

size_t TlsStream::BufferedBytes() const {
  return closed_ ? 0 : transport_->BufferedBytes() + ciphertext_out_.size();
}

void TlsStream::ShutdownWrite() {
  if (closed_ || write_shutdown_) return;
  write_shutdown_ = true;
  if (handshake_complete_) {
    SSL_shutdown(ssl_.get());
    ERR_clear_error();
    FlushCiphertext();
  }
  transport_->ShutdownWrite();
}

void TlsStream::SetReadEnabled(bool enabled) {
  if (closed_ || !handshake_complete_ || enabled == read_enabled_) return;
  read_enabled_ = enabled;
  if (!transport_eof_) transport_->SetReadEnabled(enabled);
  // Records already buffered are decrypted on the next loop turn, not inside this call, so
  // the caller never sees OnData re-entrantly.
  if (enabled && (HasBufferedInput() || (transport_eof_ && !peer_finished_))) {
    resume_reading_.Start(0);
  }
}

void TlsStream::OnData(Buffer& data) {
  if (peer_finished_) {
    // Nothing may follow close_notify; keeping it would let the peer grow our memory.
    data.Clear();
    return;
  }
  ciphertext_in_.MoveFrom(data);
  if (!handshake_complete_) {
    ContinueHandshake();
  } else {
    ReadRecords();
  }
}

void TlsStream::ReadRecords() {
  size_t delivered = 0;
  while (!closed_ && read_enabled_ && !peer_finished_) {
    std::span<uint8_t> space = plaintext_in_.Reserve();
    int rc = SSL_read(ssl_.get(), space.data(), static_cast<int>(space.size()));
    // Read now: the owner may write from OnData below, and SSL_write resets what
    // SSL_get_error would say about this read.
    const int error = rc > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), rc);
    // Reading can mean answering (a KeyUpdate, an alert), and the answer must not wait for
    // our next write.
    FlushCiphertext();
    if (closed_) return;
    if (rc > 0) {
      plaintext_in_.Commit(static_cast<size_t>(rc));
      delivered += static_cast<size_t>(rc);
      if (delivered < kMaxPlaintextPerPass) continue;
    } else {
      plaintext_in_.Commit(0);
    }
    if (!plaintext_in_.empty() && callbacks_ != nullptr) {
      callbacks_->OnData(plaintext_in_);
      if (closed_) return;
    }
    if (rc > 0) {
      // A full pass: let the loop breathe and continue later.
      if (read_enabled_ && HasBufferedInput()) resume_reading_.Start(0);
      return;
    }
    if (error == SSL_ERROR_WANT_READ) {
      if (!transport_eof_) return;
      // The transport ended without close_notify: what came so far has been delivered, but
      // whether it is all is unknown.
      ERR_clear_error();
      if (!allow_truncation_) {
        Fail(Status(ErrorCode::kTruncated, "ended the TCP connection without TLS close_notify"));
        return;
      }
    } else if (error != SSL_ERROR_ZERO_RETURN) {
      Fail(DescribeFailure(error, "TLS read"));
      return;
    }
    peer_finished_ = true;
    if (callbacks_ != nullptr) callbacks_->OnEndOfStream();
    return;
  }
}

bool TlsStream::HasBufferedInput() const {
  return !ciphertext_in_.empty() || SSL_pending(ssl_.get()) > 0;
}

void TlsStream::OnEndOfStream() {
  transport_eof_ = true;
  if (!handshake_complete_) {
    ContinueHandshake();
    return;
  }
  if (read_enabled_) ReadRecords();
}

void TlsStream::OnWriteDrained() {
  if (callbacks_ != nullptr && handshake_complete_) callbacks_->OnWriteDrained();
}

void TlsStream::OnError(const Status& status) { Fail(status); }

void TlsStream::Fail(const Status& status) {
  if (closed_) return;
  StreamCallbacks* callbacks = handshake_complete_ ? callbacks_ : nullptr;
  Close();
  if (handshake_done_) {
    FinishHandshake(status);
  } else if (callbacks != nullptr) {
    callbacks->OnError(status);
  }
}

void TlsStream::Close() { Release(false); }

// No close_notify: the peer must not take what it got for the whole stream.
void TlsStream::Reset() { Release(true); }

void TlsStream::Release(bool abortive) {
  if (closed_) return;
  closed_ = true;
  resume_reading_.Stop();
  if (abortive) {
    transport_->Reset();
  } else {
    transport_->Close();
  }
  ciphertext_in_.Clear();
  ciphertext_out_.Clear();
  plaintext_in_.Clear();
}

}  // namespace deputy
