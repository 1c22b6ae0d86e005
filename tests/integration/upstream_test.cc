// The upstream must prove it is the name the document gave, or get nothing at all.
#include <gtest/gtest.h>

#include "integration/world.h"
#include "support/counter.h"
#include "support/tcp_server.h"

namespace deputy::test {
namespace {

struct BadUpstreamCase {
  std::string name;
  std::function<KeyPair(const TestCa& ca, const TestCa& stranger)> certificate;
};

class BadUpstreamTest : public ::testing::TestWithParam<BadUpstreamCase> {};

TEST_P(BadUpstreamTest, RefusedWithCertificateErrorAndReceivesNoApplicationByte) {
  World world;
  TestCa stranger("untrusted CA");
  RecordingSink sink;
  TlsServer upstream(GetParam().certificate(world.ca, stranger), sink.handler());
  world.Publish(
      "xmpp-client",
      nlohmann::json::array({World::Entry("xmpp.example.com", upstream.port(), "xmpp.example.com")})
          .dump());
  DeputyProcess& deputy = world.StartDeputy();
  auto tunnel = world.OpenTunnel("example.org:xmpp-client", "early secret");
  ExpectRefusal(tunnel.head, 502, "tls_certificate_error");
  tunnel.socket.Close();
  ASSERT_TRUE(deputy.WaitForAccessLogLines(1, kDefaultTimeout));
  EXPECT_EQ(deputy.AccessLog().at(0)["result"], "tls_certificate_error");
  EXPECT_EQ(sink.bytes().value(), 0u);
  EXPECT_EQ(sink.received(), "");
}

INSTANTIATE_TEST_SUITE_P(
    Certificates, BadUpstreamTest,
    ::testing::Values(BadUpstreamCase{"wrong_name",
                                      [](const TestCa& ca, const TestCa&) {
                                        return ca.Issue(CertOptions{{"other.example.com"}});
                                      }},
                      BadUpstreamCase{
                          "expired",
                          [](const TestCa& ca, const TestCa&) {
                            return ca.Issue(CertOptions{{"xmpp.example.com"}, {}, true});
                          }},
                      BadUpstreamCase{"self_signed",
                                      [](const TestCa& ca, const TestCa&) {
                                        return ca.SelfSigned(CertOptions{{"xmpp.example.com"}});
                                      }},
                      BadUpstreamCase{"untrusted_ca",
                                      [](const TestCa&, const TestCa& stranger) {
                                        return stranger.Issue(CertOptions{{"xmpp.example.com"}});
                                      }},
                      BadUpstreamCase{"partial_wildcard",
                                      [](const TestCa& ca, const TestCa&) {
                                        return ca.Issue(CertOptions{{"xm*.example.com"}});
                                      }},
                      // RFC 9525 section 6.3: no fallback to the subject common name.
                      BadUpstreamCase{"common_name_without_subject_alt_name",
                                      [](const TestCa& ca, const TestCa&) {
                                        CertOptions options;
                                        options.common_name = "xmpp.example.com";
                                        return ca.Issue(options);
                                      }}),
    [](const auto& info) { return info.param.name; });

TEST(UpstreamTest, FullWildcardCertificateIsAccepted) {
  World world;
  TlsServer upstream(world.ca.Issue(CertOptions{{"*.example.com"}}), Echo());
  world.Publish(
      "xmpp-client",
      nlohmann::json::array({World::Entry("xmpp.example.com", upstream.port(), "xmpp.example.com")})
          .dump());
  world.StartDeputy();
  auto tunnel = world.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(tunnel.head.has_value());
  EXPECT_EQ(tunnel.head->status, 200);
}

TEST(UpstreamTest, RefusingFirstEntryFallsThroughToTheSecond) {
  World world;
  uint16_t closed_port = 0;
  Socket reserved = ReserveClosedPort(&closed_port);
  auto second = world.EchoServer({"example.com"});
  world.Publish(
      "xmpp-client",
      nlohmann::json::array({World::Entry("xmpp.example.com", closed_port, "example.com"),
                             World::Entry("backup.example.com", second->port(), "example.com")})
          .dump());
  DeputyProcess& deputy = world.StartDeputy();
  auto tunnel = world.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(tunnel.head.has_value());
  ASSERT_EQ(tunnel.head->status, 200);
  ASSERT_TRUE(SendAll(tunnel.socket.fd(), "hi"));
  EXPECT_EQ(tunnel.head->extra + RecvExact(tunnel.socket.fd(), 2).data, "hi");
  tunnel.socket.Close();
  ASSERT_TRUE(deputy.WaitForAccessLogLines(1, kDefaultTimeout));
  EXPECT_EQ(deputy.AccessLog().at(0)["target"],
            "backup.example.com:" + std::to_string(second->port()));
}

TEST(UpstreamTest, AllEntriesRefusingIs502) {
  World world;
  uint16_t first = 0;
  uint16_t second = 0;
  Socket reserved_first = ReserveClosedPort(&first);
  Socket reserved_second = ReserveClosedPort(&second);
  world.Publish("xmpp-client",
                nlohmann::json::array({World::Entry("xmpp.example.com", first, "example.com"),
                                       World::Entry("backup.example.com", second, "example.com")})
                    .dump());
  world.StartDeputy();
  ExpectRefusal(world.OpenTunnel("example.org:xmpp-client").head, 502, "connection_refused");
}

TEST(UpstreamTest, UpstreamThatNeverHandshakesTimesOutWith504) {
  World world;
  TcpServer silent(TcpServer::HoldOpen());
  world.PublishTarget("xmpp-client", silent.port());
  world.config["upstream"]["handshake_timeout_ms"] = 300;
  world.StartDeputy();
  ExpectRefusal(world.OpenTunnel("example.org:xmpp-client").head, 504, "connection_timeout");
  EXPECT_EQ(silent.accepted().value(), 1u);
}

// Neither peer ended the stream, so neither may read a clean end: both are reset.
TEST(UpstreamTest, IdleTunnelIsResetOnBothSidesAfterTheIdleTimeout) {
  World world;
  Counter upstream_reset;
  Counter upstream_clean_end;
  TlsServer upstream(world.ca.Issue(CertOptions{{"example.com"}}), [&](TlsConnection& conn) {
    char buf[256];
    ssize_t n;
    while ((n = conn.ReadSome(buf, sizeof(buf))) > 0) {
    }
    (n < 0 && conn.last_status() == IoStatus::kError ? upstream_reset : upstream_clean_end).Add();
  });
  world.PublishTarget("xmpp-client", upstream.port());
  world.config["upstream"]["idle_timeout_s"] = 1;
  DeputyProcess& deputy = world.StartDeputy();
  auto tunnel = world.OpenTunnel("example.org:xmpp-client");
  ASSERT_EQ(tunnel.head->status, 200);
  Received end = RecvUntilClose(tunnel.socket.fd(), Millis(5000));
  EXPECT_EQ(end.end, RecvEnd::kReset);
  EXPECT_TRUE(upstream_reset.WaitFor(1)) << upstream_clean_end.value() << " clean ends";
  ASSERT_TRUE(deputy.WaitForAccessLogLines(1, kDefaultTimeout));
  EXPECT_EQ(deputy.AccessLog().at(0)["result"], "idle_timeout");
}

TEST(UpstreamTest, MinimumTls13RefusesATls12OnlyUpstream) {
  World world;
  TlsServerOptions tls12_only;
  tls12_only.max_version = TLS1_2_VERSION;
  RecordingSink sink;
  TlsServer upstream(world.ca.Issue(CertOptions{{"example.com"}}), sink.handler(), tls12_only);
  world.PublishTarget("xmpp-client", upstream.port());
  world.config["upstream"]["min_tls_version"] = "1.3";
  world.StartDeputy();
  ExpectRefusal(world.OpenTunnel("example.org:xmpp-client", "early").head, 502,
                "tls_protocol_error");
  EXPECT_EQ(sink.bytes().value(), 0u);
}

}  // namespace
}  // namespace deputy::test
