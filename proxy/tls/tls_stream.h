#pragma once

#include <openssl/ssl.h>

#include <functional>
#include <memory>
#include <string>

#include "base/buffer.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "net/byte_stream.h"

namespace deputy {

// TlsStream is TLS over another ByteStream (normally a TcpStream), as the client (Handshake,
// upstream connections) or as the server (Accept, client connections). BoringSSL
// reads and writes ciphertext through a BIO backed by Buffers, so no socket is touched here and
// an idle connection holds no buffers. Nothing written before the handshake has verified the
// peer reaches the transport.
class TlsStream : public ByteStream, private StreamCallbacks {
 public:
  using HandshakeCallback = std::function<void(const Status&)>;

  TlsStream(EventLoop& loop, SSL_CTX* ctx, std::unique_ptr<ByteStream> transport);
  ~TlsStream() override;

  // Handshake starts TLS, expecting a certificate valid for `verify_name` (a DNS name, or an IP
  // address for IP SANs). SNI is `verify_name` unless it is an IP literal.
  void Handshake(const std::string& verify_name, HandshakeCallback done);
  // Accept answers a client's handshake with the SSL_CTX's certificate, and verifies the
  // client's certificate when the SSL_CTX asks for one. `received` holds bytes of the client's
  // that were read already (after a PROXY protocol header); they are taken as ciphertext.
  void Accept(Buffer& received, HandshakeCallback done);

  // SetAllowTruncation decides what a transport end without close_notify means: by default a
  // truncation, reported as an error (kTruncated), since an attacker or a failure can cut TCP
  // but cannot forge close_notify; allowed, an end of stream, for protocols whose own framing
  // detects a cut (HTTP with a length) or peers known to skip close_notify.
  void SetAllowTruncation(bool allow) { allow_truncation_ = allow; }

  // After a successful handshake: negotiated protocol and cipher, for logs.
  const std::string& version() const { return version_; }
  const std::string& cipher() const { return cipher_; }
  // The connection, for what the handshake learned about the peer (tls/peer_identity.h).
  const SSL* ssl() const { return ssl_.get(); }

  void SetCallbacks(StreamCallbacks* callbacks) override { callbacks_ = callbacks; }
  void Write(Buffer& data) override;
  size_t BufferedBytes() const override;
  size_t UnacknowledgedBytes() const override {
    return closed_ ? 0 : transport_->UnacknowledgedBytes();
  }
  void ShutdownWrite() override;
  void SetReadEnabled(bool enabled) override;
  void Close() override;
  void Reset() override;
  bool closed() const override { return closed_; }

 private:
  // Transport events.
  void OnData(Buffer& data) override;
  void OnEndOfStream() override;
  void OnWriteDrained() override;
  void OnError(const Status& status) override;

  // AttachBuffers connects BoringSSL to the ciphertext Buffers; false (after finishing the
  // handshake with an error) when there is no SSL to attach.
  bool AttachBuffers();
  void ContinueHandshake();
  void ReadRecords();
  // HasBufferedInput: ciphertext not yet decrypted, or plaintext BoringSSL holds from a record
  // read only in part.
  bool HasBufferedInput() const;
  void FlushCiphertext();
  void FinishHandshake(const Status& status);
  void Fail(const Status& status);
  // Release ends the stream: the transport is reset when `abortive`, else closed.
  void Release(bool abortive);
  Status DescribeFailure(int ssl_error, const char* during);

  static const BIO_METHOD* BufferBioMethod();
  static int BioRead(BIO* bio, char* out, int len);
  static int BioWrite(BIO* bio, const char* in, int len);

  std::unique_ptr<ByteStream> transport_;
  bssl::UniquePtr<SSL> ssl_;
  StreamCallbacks* callbacks_ = nullptr;
  HandshakeCallback handshake_done_;
  Timer resume_reading_;
  Buffer ciphertext_in_;
  Buffer ciphertext_out_;
  Buffer plaintext_in_;
  std::string version_;
  std::string cipher_;
  bool allow_truncation_ = false;
  bool handshake_complete_ = false;
  bool read_enabled_ = true;
  bool transport_eof_ = false;
  bool peer_finished_ = false;  // close_notify or transport EOF reported upward
  bool write_shutdown_ = false;
  bool closed_ = false;
};

}  // namespace deputy
