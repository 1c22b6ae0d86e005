// The server side of a client's TLS handshake, against a BoringSSL client through memory: the
// listener's context loads (or explains why not), a verified client certificate yields its URI
// and DNS names as identities, a missing or foreign certificate fails as client_tls_error,
// bytes read before the handshake count, and a client that stalls is cut at the timeout.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include "base/buffer.h"
#include "loop/event_loop.h"
#include "support/memory_transport.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"
#include "tls/tls_acceptor.h"
#include "tls/tls_server_context.h"

namespace deputy::test {
namespace {

class TlsAcceptorTest : public ::testing::Test {
 protected:
  TlsAcceptorTest() {
    const KeyPair server = ca_.Issue(CertOptions{{"proxy.example"}});
    settings_.cert_file = dir_.Write("server.pem", server.cert_pem);
    settings_.key_file = dir_.Write("server.key", server.key_pem);
    clients_ca_file_ = clients_ca_.WriteCertFile(dir_.path());
  }

  void TearDown() override { ERR_clear_error(); }

  TlsServerContext Context() {
    Result<TlsServerContext> context = TlsServerContext::Create(settings_);
    EXPECT_TRUE(context.ok()) << context.status().message();
    return std::move(context).value();
  }

  void AskForClientCertificates(bool required) {
    settings_.client_ca_file = clients_ca_file_;
    settings_.require_client_cert = required;
  }

  // Handshake runs an acceptor against a BoringSSL client that trusts the server's CA and
  // presents `client_cert` if given, speaking at most `client_max_version`. With
  // `first_flight_early`, the ClientHello is handed to Start as bytes read already, as after a
  // PROXY protocol header.
  Result<AcceptedTls> Handshake(const std::optional<KeyPair>& client_cert,
                                bool first_flight_early = false,
                                uint16_t client_max_version = TLS1_3_VERSION) {
    TlsServerContext context = Context();
    bssl::UniquePtr<SSL_CTX> client_ctx(SSL_CTX_new(TLS_method()));
    SSL_CTX_set_max_proto_version(client_ctx.get(), client_max_version);
    if (client_cert) UseKeyPair(client_ctx.get(), *client_cert);
    bssl::UniquePtr<SSL> client(SSL_new(client_ctx.get()));
    BIO* client_in = BIO_new(BIO_s_mem());
    BIO* client_out = BIO_new(BIO_s_mem());
    SSL_set_bio(client.get(), client_in, client_out);
    SSL_set_connect_state(client.get());

    auto transport = std::make_unique<MemoryTransport>();
    MemoryTransport* wire = transport.get();
    TlsAcceptor acceptor(loop_, context.get(), 5000);
    std::optional<Result<AcceptedTls>> outcome;
    SSL_do_handshake(client.get());
    Buffer received;
    if (first_flight_early) received = Drain(client_out);
    acceptor.Start(std::move(transport), received,
                   [&](Result<AcceptedTls> result) { outcome = std::move(result); });
    for (int i = 0; i < 10 && !outcome; ++i) {
      Buffer flight = Drain(client_out);
      wire->Deliver(flight);
      std::string reply = wire->written.ToString();
      wire->written.Clear();
      BIO_write(client_in, reply.data(), static_cast<int>(reply.size()));
      SSL_do_handshake(client.get());
    }
    EXPECT_TRUE(outcome.has_value()) << "the handshake never ended";
    if (!outcome) return Status(ErrorCode::kInternal, "no outcome");
    return std::move(*outcome);
  }

  static Buffer Drain(BIO* bio) {
    Buffer out;
    char chunk[16384];
    int n;
    while ((n = BIO_read(bio, chunk, sizeof(chunk))) > 0) {
      out.Append(chunk, static_cast<size_t>(n));
    }
    return out;
  }

  // BareStart starts `acceptor` on a memory transport with `received` as bytes read already;
  // the outcome lands in `*outcome`. Returns the transport, which the acceptor owns.
  static MemoryTransport* BareStart(TlsAcceptor& acceptor, Buffer& received,
                                    std::optional<Result<AcceptedTls>>* outcome) {
    auto transport = std::make_unique<MemoryTransport>();
    MemoryTransport* wire = transport.get();
    acceptor.Start(std::move(transport), received,
                   [outcome](Result<AcceptedTls> result) { *outcome = std::move(result); });
    return wire;
  }

  KeyPair ClientCert(CertOptions options) const {
    options.client_auth = true;
    return clients_ca_.Issue(options);
  }

  EventLoop loop_;
  TempDir dir_;
  TestCa ca_;
  TestCa clients_ca_{"deputy test clients CA"};
  std::string clients_ca_file_;
  TlsServerSettings settings_;
};

TEST_F(TlsAcceptorTest, AVerifiedClientCertificateGivesItsUriNamesThenItsDnsNames) {
  AskForClientCertificates(true);
  CertOptions options;
  options.dns_names = {"workload.example", std::string("evil.example\0.good.example", 26),
                       "spiffe://cluster.local/ns/a/sa/admin"};
  options.uris = {"spiffe://cluster.local/ns/a/sa/b"};
  Result<AcceptedTls> accepted = Handshake(ClientCert(options));
  ASSERT_TRUE(accepted.ok()) << accepted.status().message();
  // The name with an embedded NUL is skipped whole: shortened, it would pass for another. A
  // DNS name that reads like a SPIFFE ID is no DNS name, and must not pass for one either.
  EXPECT_TRUE(accepted->client_certificate);
  EXPECT_EQ(accepted->identities,
            (std::vector<std::string>{"spiffe://cluster.local/ns/a/sa/b", "workload.example"}));
  EXPECT_FALSE(accepted->stream->version().empty());
}

TEST_F(TlsAcceptorTest, WithoutAClientCaNoCertificateIsAskedForAndThereAreNoIdentities) {
  Result<AcceptedTls> accepted = Handshake(ClientCert(CertOptions{{"workload.example"}}));
  ASSERT_TRUE(accepted.ok()) << accepted.status().message();
  EXPECT_FALSE(accepted->client_certificate);
  EXPECT_TRUE(accepted->identities.empty());
}

TEST_F(TlsAcceptorTest, AClientWithoutACertificateIsRefusedWhenOneIsRequired) {
  AskForClientCertificates(true);
  Result<AcceptedTls> accepted = Handshake(std::nullopt);
  ASSERT_FALSE(accepted.ok());
  EXPECT_EQ(accepted.status().code(), ErrorCode::kClientTls);
  EXPECT_EQ(accepted.status().label(), "client_tls_error");
}

TEST_F(TlsAcceptorTest, AClientWithoutACertificateGetsThroughWithoutIdentitiesWhenOptional) {
  AskForClientCertificates(false);
  Result<AcceptedTls> accepted = Handshake(std::nullopt);
  ASSERT_TRUE(accepted.ok()) << accepted.status().message();
  EXPECT_FALSE(accepted->client_certificate);
  EXPECT_TRUE(accepted->identities.empty());
}

TEST_F(TlsAcceptorTest, ACertificateFromAnotherCaIsRefusedEvenWhenOptional) {
  AskForClientCertificates(false);
  TestCa stranger("stranger CA");
  CertOptions options;
  options.uris = {"spiffe://cluster.local/ns/a/sa/b"};
  options.client_auth = true;
  Result<AcceptedTls> accepted = Handshake(stranger.Issue(options));
  ASSERT_FALSE(accepted.ok());
  EXPECT_EQ(accepted.status().code(), ErrorCode::kClientTls);
  EXPECT_NE(accepted.status().message().find("certificate"), std::string::npos)
      << accepted.status().message();
}

TEST_F(TlsAcceptorTest, AServerCertificateIsNoClientCertificate) {
  AskForClientCertificates(true);
  // extendedKeyUsage serverAuth only: issued by the right CA, but not for clients.
  Result<AcceptedTls> accepted = Handshake(clients_ca_.Issue(CertOptions{{"workload.example"}}));
  ASSERT_FALSE(accepted.ok());
  EXPECT_EQ(accepted.status().code(), ErrorCode::kClientTls);
}

TEST_F(TlsAcceptorTest, AClientBelowTheMinimumVersionIsRefused) {
  Result<AcceptedTls> tls12 = Handshake(std::nullopt, false, TLS1_2_VERSION);
  ASSERT_TRUE(tls12.ok()) << "TLS 1.2 is the default minimum: " << tls12.status().message();
  settings_.min_version = TlsVersion::kTls13;
  Result<AcceptedTls> refused = Handshake(std::nullopt, false, TLS1_2_VERSION);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kClientTls);
  ASSERT_TRUE(Handshake(std::nullopt, false, TLS1_3_VERSION).ok());
}

TEST_F(TlsAcceptorTest, AClientCertificateWorksOverTls12Too) {
  AskForClientCertificates(true);
  CertOptions options;
  options.uris = {"spiffe://cluster.local/ns/a/sa/b"};
  Result<AcceptedTls> accepted = Handshake(ClientCert(options), false, TLS1_2_VERSION);
  ASSERT_TRUE(accepted.ok()) << accepted.status().message();
  EXPECT_EQ(accepted->identities, std::vector<std::string>{"spiffe://cluster.local/ns/a/sa/b"});
  EXPECT_EQ(accepted->stream->version(), "TLSv1.2");
}

TEST_F(TlsAcceptorTest, BytesReadBeforeTheHandshakeStartAreItsFirstFlight) {
  Result<AcceptedTls> accepted = Handshake(std::nullopt, /*first_flight_early=*/true);
  ASSERT_TRUE(accepted.ok()) << accepted.status().message();
}

TEST_F(TlsAcceptorTest, PlaintextInsteadOfAClientHelloFailsAtOnce) {
  TlsServerContext context = Context();
  TlsAcceptor acceptor(loop_, context.get(), 5000);
  std::optional<Result<AcceptedTls>> outcome;
  Buffer received;
  received.Append("CONNECT example.org:443 HTTP/1.1\r\n\r\n");
  MemoryTransport* wire = BareStart(acceptor, received, &outcome);
  ASSERT_TRUE(outcome.has_value()) << "decided by the bytes at hand, inside Start";
  EXPECT_EQ(outcome->status().code(), ErrorCode::kClientTls);
  EXPECT_TRUE(wire->closed());
}

TEST_F(TlsAcceptorTest, AClientThatStallsIsClosedAtTheTimeout) {
  TlsServerContext context = Context();
  TlsAcceptor acceptor(loop_, context.get(), 20);
  std::optional<Result<AcceptedTls>> outcome;
  Buffer received;
  MemoryTransport* wire = BareStart(acceptor, received, &outcome);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!outcome && std::chrono::steady_clock::now() < deadline) {
    uv_run(loop_.get(), UV_RUN_ONCE);
  }
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->status().code(), ErrorCode::kClientTls);
  EXPECT_NE(outcome->status().message().find("within 20 ms"), std::string::npos);
  EXPECT_TRUE(wire->closed());
}

TEST_F(TlsAcceptorTest, DestroyingOrCancellingTheAcceptorClosesTheConnectionWithoutACallback) {
  TlsServerContext context = Context();
  for (bool cancel : {false, true}) {
    auto transport = std::make_unique<MemoryTransport>();
    bool closed = false;
    transport->closed_flag = &closed;
    bool called = false;
    {
      TlsAcceptor acceptor(loop_, context.get(), 5000);
      Buffer received;
      acceptor.Start(std::move(transport), received, [&](Result<AcceptedTls>) { called = true; });
      EXPECT_FALSE(closed);
      if (cancel) {
        acceptor.Cancel();
        EXPECT_TRUE(closed) << "Cancel closes at once, not at the deferred destruction";
      }
    }
    EXPECT_TRUE(closed);
    EXPECT_FALSE(called);
  }
}

TEST_F(TlsAcceptorTest, TheContextKnowsWhenItsCertificateExpires) {
  TlsServerContext context = Context();
  // Test certificates are valid for a day from now.
  const int64_t in_a_day = static_cast<int64_t>(std::time(nullptr)) + 86400;
  EXPECT_NEAR(static_cast<double>(context.not_after()), static_cast<double>(in_a_day), 120);
}

TEST_F(TlsAcceptorTest, AKeyThatDoesNotMatchTheCertificateIsRefusedByName) {
  settings_.key_file = dir_.Write("other.key", ca_.Issue(CertOptions{{"x.example"}}).key_pem);
  Result<TlsServerContext> context = TlsServerContext::Create(settings_);
  ASSERT_FALSE(context.ok());
  EXPECT_EQ(context.status().code(), ErrorCode::kInvalidConfig);
  EXPECT_NE(context.status().message().find("does not match"), std::string::npos);
  EXPECT_NE(context.status().message().find(settings_.key_file), std::string::npos);
}

TEST_F(TlsAcceptorTest, MissingOrBrokenFilesAreRefusedByName) {
  TlsServerSettings missing = settings_;
  missing.cert_file = dir_.path() + "/absent.pem";
  Result<TlsServerContext> no_cert = TlsServerContext::Create(missing);
  ASSERT_FALSE(no_cert.ok());
  EXPECT_NE(no_cert.status().message().find("absent.pem"), std::string::npos);

  TlsServerSettings broken = settings_;
  broken.client_ca_file = dir_.Write("broken-ca.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n");
  Result<TlsServerContext> bad_ca = TlsServerContext::Create(broken);
  ASSERT_FALSE(bad_ca.ok());
  EXPECT_NE(bad_ca.status().message().find("broken-ca.pem"), std::string::npos);
}

}  // namespace
}  // namespace deputy::test
