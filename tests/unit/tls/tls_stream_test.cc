// TlsStream over an in-memory transport, driven record by record: plaintext both ways, pass
// limits, close_notify, truncation, resets and reads resumed after a pause.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <chrono>
#include <string>

#include "base/buffer.h"
#include "loop/event_loop.h"
#include "net/byte_stream.h"
#include "support/memory_transport.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"
#include "tls/tls_context.h"
#include "tls/tls_stream.h"

namespace deputy::test {
namespace {

bssl::UniquePtr<SSL_CTX> ServerContext(const KeyPair& pair) {
  bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_method()));
  bssl::UniquePtr<BIO> cert_bio(
      BIO_new_mem_buf(pair.cert_pem.data(), static_cast<int>(pair.cert_pem.size())));
  bssl::UniquePtr<X509> cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  bssl::UniquePtr<BIO> key_bio(
      BIO_new_mem_buf(pair.key_pem.data(), static_cast<int>(pair.key_pem.size())));
  bssl::UniquePtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!ctx || !cert || !key || !SSL_CTX_use_certificate(ctx.get(), cert.get()) ||
      !SSL_CTX_use_PrivateKey(ctx.get(), key.get())) {
    return nullptr;
  }
  return ctx;
}

// TlsStreamOverMemoryTest connects a TlsStream (client) and a BoringSSL server through memory
// BIOs, so each test decides exactly which ciphertext reaches the stream and when.
class TlsStreamOverMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto client_ctx = TlsClientContext::Create(ca_.WriteCertFile(dir_.path()), TlsVersion::kTls12);
    ASSERT_TRUE(client_ctx.ok()) << client_ctx.status().message();
    client_ctx_.emplace(std::move(client_ctx).value());
    server_ctx_ = ServerContext(ca_.Issue(CertOptions{{"example.com"}}));
    ASSERT_TRUE(server_ctx_);
    server_.reset(SSL_new(server_ctx_.get()));
    server_in_ = BIO_new(BIO_s_mem());
    server_out_ = BIO_new(BIO_s_mem());
    SSL_set_bio(server_.get(), server_in_, server_out_);
    SSL_set_accept_state(server_.get());

    auto transport = std::make_unique<MemoryTransport>();
    transport_ = transport.get();
    stream_ = std::make_unique<TlsStream>(loop_, client_ctx_->get(), std::move(transport));
    stream_->SetCallbacks(&recorder_);

    bool done = false;
    Status handshake;
    stream_->Handshake("example.com", [&](const Status& s) {
      done = true;
      handshake = s;
    });
    for (int i = 0; i < 10 && !done; ++i) {
      ToServer();
      SSL_do_handshake(server_.get());
      Buffer flight = FromServer();
      transport_->Deliver(flight);
    }
    ASSERT_TRUE(done);
    ASSERT_TRUE(handshake.ok()) << handshake.message();
    // The server's side finishes with the client's last flight.
    ToServer();
    ASSERT_EQ(SSL_do_handshake(server_.get()), 1);
  }

  void TearDown() override {
    stream_.reset();
    ERR_clear_error();
  }

  // ToServer moves what the stream wrote into the server's input.
  void ToServer() {
    std::string bytes = transport_->written.ToString();
    transport_->written.Clear();
    if (!bytes.empty()) BIO_write(server_in_, bytes.data(), static_cast<int>(bytes.size()));
  }

  // FromServer takes everything the server has produced.
  Buffer FromServer() {
    Buffer out;
    char chunk[16384];
    int n;
    while ((n = BIO_read(server_out_, chunk, sizeof(chunk))) > 0) {
      out.Append(chunk, static_cast<size_t>(n));
    }
    return out;
  }

  // ServerRead drains the application data the server can read now.
  std::string ServerRead() {
    ToServer();
    std::string out;
    char chunk[16384];
    int n;
    while ((n = SSL_read(server_.get(), chunk, sizeof(chunk))) > 0) {
      out.append(chunk, static_cast<size_t>(n));
    }
    return out;
  }

  // RunUntil turns the loop until `done` holds or a second has passed.
  template <typename Pred>
  bool RunUntil(Pred done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      uv_run(loop_.get(), UV_RUN_NOWAIT);
    }
    return true;
  }

  EventLoop loop_;
  TestCa ca_;
  TempDir dir_;
  std::optional<TlsClientContext> client_ctx_;
  bssl::UniquePtr<SSL_CTX> server_ctx_;
  bssl::UniquePtr<SSL> server_;
  BIO* server_in_ = nullptr;
  BIO* server_out_ = nullptr;
  MemoryTransport* transport_ = nullptr;
  std::unique_ptr<TlsStream> stream_;
  Recorder recorder_;
};

TEST_F(TlsStreamOverMemoryTest, PlaintextFlowsBothWaysAfterTheHandshake) {
  stream_->SetReadEnabled(true);
  Buffer out;
  out.Append("hello upstream");
  stream_->Write(out);
  EXPECT_EQ(ServerRead(), "hello upstream");
  ASSERT_GT(SSL_write(server_.get(), "hello client", 12), 0);
  Buffer in = FromServer();
  transport_->Deliver(in);
  ASSERT_TRUE(RunUntil([&] { return recorder_.received.size() >= 12; }));
  EXPECT_EQ(recorder_.received, "hello client");
}

// An owner that answers from inside OnData (a SOCKS or CONNECT frontend does) writes between
// two reads of one pass; the read that then finds no more records must still read as "wait
// for ciphertext", not as an error.
TEST_F(TlsStreamOverMemoryTest, WritingFromOnDataLeavesTheReadIntact) {
  class Answerer : public Recorder {
   public:
    void OnData(Buffer& data) override {
      Recorder::OnData(data);
      Buffer answer;
      answer.Append("pong");
      stream->Write(answer);
    }
    TlsStream* stream = nullptr;
  } answerer;
  answerer.stream = stream_.get();
  stream_->SetCallbacks(&answerer);
  stream_->SetReadEnabled(true);
  ASSERT_GT(SSL_write(server_.get(), "ping", 4), 0);
  Buffer in = FromServer();
  transport_->Deliver(in);
  ASSERT_TRUE(RunUntil([&] { return !answerer.received.empty(); }));
  EXPECT_TRUE(answerer.errors.empty()) << answerer.errors.front().message();
  EXPECT_EQ(ServerRead(), "pong");
  ASSERT_GT(SSL_write(server_.get(), "again", 5), 0);
  Buffer more = FromServer();
  transport_->Deliver(more);
  ASSERT_TRUE(RunUntil([&] { return answerer.received == "pingagain"; }));
  EXPECT_FALSE(stream_->closed());
}

// One read that carries more than a pass's worth of records, ending in a record the pass reads
// only in part: the rest of that record must still arrive, without any further ciphertext.
TEST_F(TlsStreamOverMemoryTest, PassLimitDoesNotStrandTheRestOfARecord) {
  stream_->SetReadEnabled(true);
  std::string record(1000, 'r');
  constexpr int kRecords = 66;  // 66000 bytes: the 64 KiB pass limit falls inside record 66
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_EQ(SSL_write(server_.get(), record.data(), static_cast<int>(record.size())), 1000);
  }
  Buffer all = FromServer();
  transport_->Deliver(all);
  RunUntil([&] { return recorder_.received.size() >= kRecords * record.size(); });
  EXPECT_EQ(recorder_.received.size(), kRecords * record.size());
}

TEST_F(TlsStreamOverMemoryTest, CloseNotifyIsOneEndOfStreamAndWritingGoesOn) {
  stream_->SetReadEnabled(true);
  ASSERT_GT(SSL_write(server_.get(), "last words", 10), 0);
  SSL_shutdown(server_.get());
  Buffer in = FromServer();
  transport_->Deliver(in);
  ASSERT_TRUE(RunUntil([&] { return recorder_.ends > 0; }));
  EXPECT_EQ(recorder_.received, "last words");
  transport_->DeliverEnd();
  uv_run(loop_.get(), UV_RUN_NOWAIT);
  EXPECT_EQ(recorder_.ends, 1);
  EXPECT_TRUE(recorder_.errors.empty());
  // Half-close: the client's direction still reaches the server.
  Buffer out;
  out.Append("still talking");
  stream_->Write(out);
  EXPECT_EQ(ServerRead(), "still talking");
}

TEST_F(TlsStreamOverMemoryTest, ShutdownWriteSendsCloseNotifyThenEndsTheTransport) {
  stream_->SetReadEnabled(true);
  Buffer out;
  out.Append("bye");
  stream_->Write(out);
  stream_->ShutdownWrite();
  EXPECT_TRUE(transport_->write_shut_down);
  EXPECT_EQ(ServerRead(), "bye");
  EXPECT_EQ(SSL_get_error(server_.get(), SSL_read(server_.get(), out.Reserve().data(), 1)),
            SSL_ERROR_ZERO_RETURN);
  out.Commit(0);
  // Writing after the shutdown sends nothing.
  Buffer more;
  more.Append("late");
  stream_->Write(more);
  EXPECT_TRUE(transport_->written.empty());
}

// A transport that ends without close_notify may have cut the stream: the bytes that came are
// delivered, then the end is an error, not an end of stream.
TEST_F(TlsStreamOverMemoryTest, TransportEndWithoutCloseNotifyIsATruncation) {
  stream_->SetReadEnabled(true);
  ASSERT_GT(SSL_write(server_.get(), "abc", 3), 0);
  Buffer in = FromServer();
  transport_->Deliver(in);
  transport_->DeliverEnd();
  ASSERT_TRUE(RunUntil([&] { return recorder_.ends > 0 || !recorder_.errors.empty(); }));
  EXPECT_EQ(recorder_.received, "abc");
  EXPECT_EQ(recorder_.ends, 0);
  ASSERT_EQ(recorder_.errors.size(), 1u);
  EXPECT_EQ(recorder_.errors[0].code(), ErrorCode::kTruncated);
  EXPECT_TRUE(transport_->closed());
}

// Where truncation is allowed, the transport's end is an end of stream, as with plain TCP.
TEST_F(TlsStreamOverMemoryTest, TransportEndWithoutCloseNotifyIsAnEndOfStreamWhenAllowed) {
  stream_->SetAllowTruncation(true);
  stream_->SetReadEnabled(true);
  ASSERT_GT(SSL_write(server_.get(), "abc", 3), 0);
  Buffer in = FromServer();
  transport_->Deliver(in);
  transport_->DeliverEnd();
  ASSERT_TRUE(RunUntil([&] { return recorder_.ends > 0 || !recorder_.errors.empty(); }));
  EXPECT_EQ(recorder_.received, "abc");
  EXPECT_EQ(recorder_.ends, 1);
  EXPECT_TRUE(recorder_.errors.empty());
}

// Reset aborts: the transport is reset and the server never reads a close_notify.
TEST_F(TlsStreamOverMemoryTest, ResetResetsTheTransportWithoutCloseNotify) {
  stream_->SetReadEnabled(true);
  Buffer out;
  out.Append("partial");
  stream_->Write(out);
  EXPECT_EQ(ServerRead(), "partial");
  stream_->Reset();
  EXPECT_TRUE(stream_->closed());
  EXPECT_TRUE(transport_->reset);
  EXPECT_FALSE(transport_->write_shut_down);
  EXPECT_TRUE(transport_->written.empty());
  Buffer more;
  more.Append("late");
  stream_->Write(more);
  EXPECT_TRUE(transport_->written.empty());
}

// Records that arrive while the reader is paused wait, and come out when it resumes.
TEST_F(TlsStreamOverMemoryTest, RecordsBufferedWhilePausedArriveOnResume) {
  stream_->SetReadEnabled(true);
  stream_->SetReadEnabled(false);
  EXPECT_FALSE(transport_->reading);
  ASSERT_GT(SSL_write(server_.get(), "queued", 6), 0);
  Buffer in = FromServer();
  transport_->Deliver(in);
  uv_run(loop_.get(), UV_RUN_NOWAIT);
  EXPECT_EQ(recorder_.received, "");
  stream_->SetReadEnabled(true);
  EXPECT_TRUE(transport_->reading);
  ASSERT_TRUE(RunUntil([&] { return !recorder_.received.empty(); }));
  EXPECT_EQ(recorder_.received, "queued");
}

}  // namespace
}  // namespace deputy::test
