#include "support/tls_sink_server.h"

#include <openssl/err.h>

#include <cstring>
#include <optional>
#include <utility>

#include "support/die.h"
#include "support/random_data.h"
#include "support/tls_server.h"

namespace deputy::test {

namespace {

constexpr size_t kReadBufferSize = 64 * 1024;

std::string SslFailure(const char* what, SSL* ssl, int rc) {
  return std::string(what) + " failed (SSL error " + std::to_string(SSL_get_error(ssl, rc)) +
         "): " + SslErrorString();
}

}  // namespace

// Connection is one accepted TLS connection. It lives from accept to its handle's close
// callback, which deletes it; write and shutdown callbacks always run before that (libuv cancels
// pending requests before closing), so they may use the connection.
class TlsSinkServer::Connection {
 public:
  explicit Connection(TlsSinkServer& server) : server_(server) { tcp_.data = this; }

  uv_tcp_t* tcp() { return &tcp_; }
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }

  void Start() {
    ssl_.reset(SSL_new(server_.ctx_.get()));
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    if (!ssl_ || in == nullptr || out == nullptr) DieSsl("sink SSL_new");
    in_ = in;
    out_ = out;
    SSL_set_bio(ssl_.get(), in, out);  // the SSL owns both BIOs from here
    SSL_set_accept_state(ssl_.get());
    int rc = uv_read_start(
        stream(),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          auto& buffer = static_cast<Connection*>(h->data)->server_.read_buffer_;
          *buf = uv_buf_init(buffer.data(), static_cast<unsigned>(buffer.size()));
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          static_cast<Connection*>(s->data)->OnRead(n, buf);
        });
    if (rc != 0) Fail(std::string("uv_read_start: ") + uv_strerror(rc));
  }

  // Close ends the connection without recording anything (the server is stopping).
  void Close() {
    if (closing_) return;
    closing_ = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), [](uv_handle_t* h) {
      auto* self = static_cast<Connection*>(h->data);
      self->server_.connections_.erase(self);
      delete self;
    });
  }

 private:
  struct WriteRequest {
    uv_write_t req{};
    Connection* conn = nullptr;
    std::string data;
  };

  void OnRead(ssize_t n, const uv_buf_t* buf) {
    if (closing_) return;
    if (n > 0) {
      if (BIO_write(in_, buf->base, static_cast<int>(n)) != n) DieSsl("sink BIO_write");
      Pump();
      return;
    }
    if (n == 0) return;  // EAGAIN
    if (n == UV_EOF) {
      uv_read_stop(stream());
      if (!client_ended_) {
        Fail("TCP end without close_notify after " + std::to_string(received_bytes_) + " bytes");
      }
      return;
    }
    Fail(std::string("read: ") + uv_strerror(static_cast<int>(n)));
  }

  // Pump runs the handshake, then reads every record BoringSSL can decrypt, then sends what it
  // produced.
  void Pump() {
    if (!handshaken_) {
      int rc = SSL_do_handshake(ssl_.get());
      if (rc != 1) {
        int error = SSL_get_error(ssl_.get(), rc);
        if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
          Fail(SslFailure("handshake", ssl_.get(), rc));
          return;
        }
        Flush();
        return;
      }
      handshaken_ = true;
      server_.handshakes_.Add();
    }
    char plain[16 * 1024];
    while (!client_ended_ && !closing_) {
      int rc = SSL_read(ssl_.get(), plain, sizeof(plain));
      if (rc > 0) {
        OnPlaintext(std::string_view(plain, static_cast<size_t>(rc)));
        continue;
      }
      int error = SSL_get_error(ssl_.get(), rc);
      if (error == SSL_ERROR_ZERO_RETURN) {
        OnClientEnd();
        break;
      }
      if (error == SSL_ERROR_WANT_READ) break;
      Fail(SslFailure("read", ssl_.get(), rc));
      return;
    }
    if (closing_) return;
    Flush();
    MaybeDone();
  }

  void OnPlaintext(std::string_view data) {
    received_bytes_ += data.size();
    received_hash_.Update(data);
    if (preamble_) return;
    head_.append(data.substr(0, kSinkPreambleSize - std::min(head_.size(), kSinkPreambleSize)));
    if (head_.size() < kSinkPreambleSize) return;
    preamble_ = DecodePreamble(head_);
    if (!preamble_) {
      Fail("not a sink preamble");
      return;
    }
    if (preamble_->order != CloseOrder::kClientFirst) Reply();
  }

  void OnClientEnd() {
    client_ended_ = true;
    if (!preamble_) {
      Fail("client ended after " + std::to_string(received_bytes_) + " bytes, before a preamble");
      return;
    }
    if (preamble_->order == CloseOrder::kClientFirst) Reply();
  }

  // Reply sends reply_bytes of random data, then close_notify and a TCP FIN.
  void Reply() {
    std::string data = RandomBytes(preamble_->reply_bytes);
    sent_hash_.Update(data);
    sent_bytes_ = data.size();
    size_t offset = 0;
    while (offset < data.size()) {
      // A memory BIO never pushes back, so each write takes a whole record's worth.
      int chunk = static_cast<int>(std::min<size_t>(data.size() - offset, 16 * 1024));
      int rc = SSL_write(ssl_.get(), data.data() + offset, chunk);
      if (rc <= 0) {
        Fail(SslFailure("write", ssl_.get(), rc));
        return;
      }
      offset += static_cast<size_t>(rc);
    }
    if (SSL_shutdown(ssl_.get()) < 0) {
      Fail(SslFailure("close_notify", ssl_.get(), -1));
      return;
    }
    Flush();
    if (closing_) return;
    auto* req = new uv_shutdown_t{};
    req->data = this;
    int rc = uv_shutdown(req, stream(), [](uv_shutdown_t* r, int status) {
      auto* self = static_cast<Connection*>(r->data);
      delete r;
      self->OnShutdown(status);
    });
    if (rc != 0) {
      delete req;
      Fail(std::string("uv_shutdown: ") + uv_strerror(rc));
    }
  }

  void OnShutdown(int status) {
    if (closing_) return;
    if (status != 0) {
      Fail(std::string("shutdown: ") + uv_strerror(status));
      return;
    }
    server_ended_ = true;
    MaybeDone();
  }

  // Flush writes out the ciphertext BoringSSL left in the output BIO.
  void Flush() {
    size_t pending = BIO_pending(out_);
    if (pending == 0 || closing_) return;
    auto* write = new WriteRequest;
    write->conn = this;
    write->data.resize(pending);
    int got = BIO_read(out_, write->data.data(), static_cast<int>(pending));
    if (got != static_cast<int>(pending)) DieSsl("sink BIO_read");
    uv_buf_t buf = uv_buf_init(write->data.data(), static_cast<unsigned>(pending));
    int rc = uv_write(&write->req, stream(), &buf, 1, [](uv_write_t* r, int status) {
      auto* write = reinterpret_cast<WriteRequest*>(r);
      Connection* conn = write->conn;
      delete write;
      if (status != 0 && !conn->closing_) {
        conn->Fail(std::string("write: ") + uv_strerror(status));
      }
    });
    if (rc != 0) {
      delete write;
      Fail(std::string("uv_write: ") + uv_strerror(rc));
    }
  }

  void MaybeDone() {
    if (client_ended_ && server_ended_ && !closing_) Finish("");
  }

  void Fail(std::string error) {
    if (closing_) return;
    Finish(std::move(error));
  }

  void Finish(std::string error) {
    if (preamble_) {
      SinkRecord record;
      record.id = preamble_->id;
      record.order = preamble_->order;
      record.received_bytes = received_bytes_;
      record.received_sha256 = received_hash_.HexDigest();
      record.sent_bytes = sent_bytes_;
      record.sent_sha256 = sent_hash_.HexDigest();
      record.error = std::move(error);
      server_.Record(std::move(record));
    } else {
      server_.RecordAnonymousFailure(error.empty() ? "ended before a preamble" : std::move(error));
    }
    Close();
  }

  TlsSinkServer& server_;
  uv_tcp_t tcp_{};
  bssl::UniquePtr<SSL> ssl_;
  BIO* in_ = nullptr;   // owned by ssl_
  BIO* out_ = nullptr;  // owned by ssl_
  bool handshaken_ = false;
  bool client_ended_ = false;  // close_notify received
  bool server_ended_ = false;  // close_notify sent and the TCP FIN written
  bool closing_ = false;
  std::string head_;
  std::optional<SinkPreamble> preamble_;
  uint64_t received_bytes_ = 0;
  uint64_t sent_bytes_ = 0;
  Sha256Stream received_hash_;
  Sha256Stream sent_hash_;
};

TlsSinkServer::TlsSinkServer(const KeyPair& key_pair, int backlog)
    : ctx_(MakeServerContext(key_pair, TlsServerOptions{})), read_buffer_(kReadBufferSize) {
  if (uv_loop_init(&loop_) != 0) Die("sink uv_loop_init");
  sockaddr_in address{};
  uv_ip4_addr("127.0.0.1", 0, &address);
  if (uv_tcp_init(&loop_, &listener_) != 0 ||
      uv_tcp_bind(&listener_, reinterpret_cast<sockaddr*>(&address), 0) != 0) {
    Die("sink bind");
  }
  listener_.data = this;
  if (uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), backlog, [](uv_stream_t* s, int st) {
        static_cast<TlsSinkServer*>(s->data)->OnConnection(st);
      }) != 0) {
    Die("sink listen");
  }
  sockaddr_storage bound{};
  int length = sizeof(bound);
  uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &length);
  port_ = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  stop_.data = this;
  if (uv_async_init(&loop_, &stop_,
                    [](uv_async_t* a) { static_cast<TlsSinkServer*>(a->data)->OnStop(); }) != 0) {
    Die("sink uv_async_init");
  }
  thread_ = std::thread([this] { Run(); });
}

TlsSinkServer::~TlsSinkServer() {
  uv_async_send(&stop_);
  thread_.join();
  if (uv_loop_close(&loop_) != 0) Die("sink loop still has handles");
}

void TlsSinkServer::Run() { uv_run(&loop_, UV_RUN_DEFAULT); }

void TlsSinkServer::OnConnection(int status) {
  if (status != 0) return;
  auto* conn = new Connection(*this);
  if (uv_tcp_init(&loop_, conn->tcp()) != 0) Die("sink uv_tcp_init");
  connections_.insert(conn);
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&listener_), conn->stream()) != 0) {
    conn->Close();
    return;
  }
  accepted_.Add();
  conn->Start();
}

void TlsSinkServer::OnStop() {
  uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&stop_), nullptr);
  // Close erases nothing yet (that happens in the close callbacks), so iterate over a copy.
  std::vector<Connection*> open(connections_.begin(), connections_.end());
  for (Connection* conn : open) conn->Close();
}

void TlsSinkServer::Record(SinkRecord record) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = records_.emplace(record.id, record);
  if (!inserted) it->second.error += "; a second connection used id " + std::to_string(record.id);
  recorded_.notify_all();
}

void TlsSinkServer::RecordAnonymousFailure(std::string error) {
  std::lock_guard lock(mu_);
  anonymous_failures_.push_back(std::move(error));
  recorded_.notify_all();
}

std::map<uint64_t, SinkRecord> TlsSinkServer::Records() const {
  std::lock_guard lock(mu_);
  return records_;
}

std::map<uint64_t, SinkRecord> TlsSinkServer::TakeRecords() {
  std::lock_guard lock(mu_);
  return std::exchange(records_, {});
}

size_t TlsSinkServer::RecordCount() const {
  std::lock_guard lock(mu_);
  return records_.size();
}

bool TlsSinkServer::WaitForRecords(size_t n, Millis timeout) const {
  std::unique_lock lock(mu_);
  return recorded_.wait_for(lock, timeout, [&] { return records_.size() >= n; });
}

std::vector<std::string> TlsSinkServer::AnonymousFailures() const {
  std::lock_guard lock(mu_);
  return anonymous_failures_;
}

}  // namespace deputy::test
