// Through a real deputy process: the destination guard keeps deputy from connecting, on anyone's
// behalf, to the networks behind it. Upstream targets, the direct fallback, the well-known fetch
// and its redirect hops are all checked on the address about to be connected to. These tests
// allow only 127.0.0.1 and put the peers that must stay unreached on 127.0.0.2, so "no
// connection" is something the peer itself counts.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "integration/world.h"
#include "support/dnsmasq_server.h"
#include "support/private_resolver.h"

namespace deputy::test {
namespace {

constexpr uint32_t kOtherLoopback = 0x7f000002;  // 127.0.0.2, in host order

// PortIsFreeOnLoopback says whether a TCP socket could bind 127.0.0.1:`port` just now.
bool PortIsFreeOnLoopback(uint16_t port) {
  Socket probe(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  return probe.valid() &&
         bind(probe.fd(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
}

class ProhibitedDestinationsTest : public ::testing::Test {
 protected:
  ProhibitedDestinationsTest() {
    world_.config["policy"]["allowed_networks"] = {"127.0.0.1/32"};
    world_.config["dns"]["hosts"]["inside.example"] = {"127.0.0.2"};
  }

  // EchoOnOtherLoopback is an echo server for example.com listening on 127.0.0.2.
  std::unique_ptr<TlsServer> EchoOnOtherLoopback() {
    TlsServerOptions options;
    options.address = kOtherLoopback;
    return std::make_unique<TlsServer>(world_.ca.Issue(CertOptions{{"example.com"}}), Echo(),
                                       options);
  }

  // PublishOne delegates `service` to the single target host:port (certificate example.com).
  void PublishOne(const std::string& service, const std::string& host, uint16_t port) {
    world_.Publish(service,
                   nlohmann::json::array({World::Entry(host, port, "example.com")}).dump());
  }

  // ExpectProhibited expects 403 destination_ip_prohibited, naming no address.
  void ExpectProhibited(const std::string& authority) {
    World::Opened opened = world_.OpenTunnel(authority);
    ExpectRefusal(opened.head, 403, "destination_ip_prohibited");
    if (!opened.head) return;
    std::string proxy_status = opened.head->Header("proxy-status").value_or("");
    EXPECT_NE(proxy_status.find("destination address prohibited by policy"), std::string::npos)
        << proxy_status;
    EXPECT_EQ(proxy_status.find("127.0.0.2"), std::string::npos)
        << "the client is not told which address a name resolves to: " << proxy_status;
  }

  World world_;
};

TEST_F(ProhibitedDestinationsTest, TargetOnAProhibitedAddressIsRefusedWithoutAConnection) {
  auto inside = EchoOnOtherLoopback();
  PublishOne("xmpp-client", "inside.example", inside->port());
  DeputyProcess& deputy = world_.StartDeputy();
  ExpectProhibited("example.org:xmpp-client");
  EXPECT_EQ(inside->accepted().value(), 0u);
  ASSERT_TRUE(deputy.WaitForAccessLogLines(1, kDefaultTimeout));
  EXPECT_EQ(deputy.AccessLog().at(0)["result"], "destination_ip_prohibited");
  // The operator's log names the address and the range.
  EXPECT_TRUE(deputy.WaitForStderr("127.0.0.2:" + std::to_string(inside->port())));
  EXPECT_TRUE(deputy.WaitForStderr("loopback 127.0.0.0/8"));
}

TEST_F(ProhibitedDestinationsTest, SameTargetIsReachedOnceItsNetworkIsAllowed) {
  auto inside = EchoOnOtherLoopback();
  world_.config["policy"]["allowed_networks"] = {"127.0.0.0/8"};
  PublishOne("xmpp-client", "inside.example", inside->port());
  world_.StartDeputy();
  world_.ExpectTunnel("example.org:xmpp-client");
  EXPECT_EQ(inside->accepted().value(), 1u);
}

TEST_F(ProhibitedDestinationsTest, ProhibitedTargetsAreSkippedForAPermittedOne) {
  auto inside = EchoOnOtherLoopback();
  auto outside = world_.EchoServer({"example.com"});
  nlohmann::json first = World::Entry("inside.example", inside->port(), "example.com");
  first["priority"] = 1;
  nlohmann::json second = World::Entry("xmpp.example.com", outside->port(), "example.com");
  second["priority"] = 2;
  world_.Publish("xmpp-client", nlohmann::json::array({first, second}).dump());
  world_.StartDeputy();
  world_.ExpectTunnel("example.org:xmpp-client");
  EXPECT_EQ(inside->accepted().value(), 0u);
  EXPECT_EQ(outside->accepted().value(), 1u);
}

// A name with a prohibited and a permitted address: the first is skipped, the second used.
TEST_F(ProhibitedDestinationsTest, ProhibitedAddressOfANameIsSkippedForItsPermittedOne) {
  auto echo = world_.EchoServer({"example.com"});
  world_.config["dns"]["hosts"]["mixed.example"] = {"127.0.0.2", "127.0.0.1"};
  PublishOne("xmpp-client", "mixed.example", echo->port());
  world_.StartDeputy();
  world_.ExpectTunnel("example.org:xmpp-client");
  EXPECT_EQ(echo->accepted().value(), 1u);
}

// A real connection failure says more than a skipped address, whatever the order: the client
// learns that the permitted address refused, not that something was prohibited.
TEST_F(ProhibitedDestinationsTest, RealFailureWinsOverAProhibitedAddressInEitherOrder) {
  uint16_t closed_port = 0;
  Socket reserved = ReserveClosedPort(&closed_port);
  world_.config["dns"]["hosts"]["refused-first.example"] = {"127.0.0.1", "127.0.0.2"};
  world_.config["dns"]["hosts"]["prohibited-first.example"] = {"127.0.0.2", "127.0.0.1"};
  PublishOne("s1", "refused-first.example", closed_port);
  PublishOne("s2", "prohibited-first.example", closed_port);
  // Two targets: the permitted one refuses, the other is prohibited.
  nlohmann::json refused = World::Entry("refused-first.example", closed_port, "example.com");
  refused["priority"] = 1;
  nlohmann::json inside = World::Entry("inside.example", closed_port, "example.com");
  inside["priority"] = 2;
  world_.Publish("s3", nlohmann::json::array({refused, inside}).dump());
  world_.StartDeputy();
  for (const char* service : {"s1", "s2", "s3"}) {
    SCOPED_TRACE(service);
    ExpectRefusal(world_.OpenTunnel(std::string("example.org:") + service).head, 502,
                  "connection_refused");
  }
}

// Every special-purpose range, as IP literals in a document. Only the loopback ones could be
// reached from here; for the others a 403 destination_ip_prohibited (not a connect error) shows
// that no connection was tried.
TEST_F(ProhibitedDestinationsTest, EveryDefaultRangeIsProhibited) {
  const std::vector<std::string> prohibited = {"0.0.0.1",
                                               "10.1.2.3",
                                               "100.64.0.1",
                                               "127.0.0.2",
                                               "169.254.169.254",
                                               "172.16.0.1",
                                               "192.0.0.1",
                                               "192.0.2.1",
                                               "192.168.1.1",
                                               "198.18.0.1",
                                               "198.51.100.1",
                                               "203.0.113.1",
                                               "224.0.0.1",
                                               "240.0.0.1",
                                               "255.255.255.255",
                                               "::",
                                               "::1",
                                               "fc00::1",
                                               "fe80::1",
                                               "ff02::1",
                                               "2001:db8::1",
                                               "::ffff:127.0.0.1",
                                               "64:ff9b::7f00:1",
                                               "2002:7f00:1::1",
                                               "2001:0:7f00:1::1"};
  for (size_t i = 0; i < prohibited.size(); ++i) {
    world_.Publish(
        "s" + std::to_string(i),
        nlohmann::json::array({World::Entry(prohibited[i], 5222, "example.com")}).dump());
  }
  world_.StartDeputy();
  for (size_t i = 0; i < prohibited.size(); ++i) {
    SCOPED_TRACE(prohibited[i]);
    ExpectRefusal(world_.OpenTunnel("example.org:s" + std::to_string(i)).head, 403,
                  "destination_ip_prohibited");
  }
}

// The IPv4-mapped form of an allowed loopback address is still prohibited: the kernel would
// carry it to 127.0.0.1, and allowing "127.0.0.0/8" says nothing about ::ffff:0:0/96.
TEST_F(ProhibitedDestinationsTest, Ipv4MappedLoopbackIsProhibitedEvenWithLoopbackAllowed) {
  auto echo = world_.EchoServer({"example.com"});
  world_.config["policy"]["allowed_networks"] = {"127.0.0.0/8"};
  PublishOne("xmpp-client", "::ffff:127.0.0.1", echo->port());
  world_.StartDeputy();
  ExpectRefusal(world_.OpenTunnel("example.org:xmpp-client").head, 403,
                "destination_ip_prohibited");
  EXPECT_EQ(echo->accepted().value(), 0u);
}

TEST_F(ProhibitedDestinationsTest, DeniedNetworksWinOverAllowedOnes) {
  auto echo = world_.EchoServer({"example.com"});
  world_.config["policy"]["denied_networks"] = {"127.0.0.1"};
  world_.PublishTarget("xmpp-client", echo->port());
  // The well-known server is on 127.0.0.1 too, so the fetch is the first thing refused.
  world_.StartDeputy();
  ExpectRefusal(world_.OpenTunnel("example.org:xmpp-client").head, 403,
                "destination_ip_prohibited");
  EXPECT_EQ(world_.Fetches("xmpp-client"), 0);
  EXPECT_EQ(echo->accepted().value(), 0u);
}

TEST_F(ProhibitedDestinationsTest, DirectFallbackToAProhibitedAddressIsRefused) {
  auto inside = EchoOnOtherLoopback();
  // Not delegated (404), so deputy would connect to the domain itself: inside.example, on
  // 127.0.0.2. The well-known server answers from 127.0.0.1.
  world_.PublishResponse("xmpp-client", {.status = 404});
  world_.config["discovery"]["url_template"] =
      "https://example.org:" + std::to_string(world_.well_known->port()) +
      "/.well-known/service/{service}?domain={domain}";
  world_.config["services"]["xmpp-client"] = inside->port();
  world_.StartDeputy();
  ExpectProhibited("inside.example:xmpp-client");
  EXPECT_EQ(world_.Fetches("xmpp-client"), 1);
  EXPECT_EQ(inside->accepted().value(), 0u);
}

TEST_F(ProhibitedDestinationsTest, RedirectHopToAProhibitedAddressIsNotFollowed) {
  TlsServerOptions options;
  options.address = kOtherLoopback;
  WellKnownServer inside(world_.ca.Issue(CertOptions{{"inside.example"}}), options);
  auto echo = world_.EchoServer({"example.com"});
  inside.Set("/.well-known/service/xmpp-client",
             {.body = nlohmann::json::array(
                          {World::Entry("xmpp.example.com", echo->port(), "example.com")})
                          .dump()});
  WellKnownServer::Response moved;
  moved.status = 302;
  moved.headers = {{"Location", "https://inside.example:" + std::to_string(inside.port()) +
                                    "/.well-known/service/xmpp-client"}};
  world_.PublishResponse("xmpp-client", moved);
  DeputyProcess& deputy = world_.StartDeputy();
  ExpectProhibited("example.org:xmpp-client");
  EXPECT_EQ(inside.tls().accepted().value(), 0u);
  EXPECT_TRUE(deputy.WaitForStderr("127.0.0.2:" + std::to_string(inside.port())))
      << "the operator's log names the hop's address";
  EXPECT_EQ(echo->accepted().value(), 0u);
}

// A name that resolves to an allowed address first and to a prohibited one later (DNS
// rebinding) never reaches the prohibited one: each connect checks the very address it uses.
// dnsmasq is the name server, seen only by deputy, and its answer changes between tunnels.
TEST_F(ProhibitedDestinationsTest, ANameThatRebindsToAProhibitedAddressNeverReachesIt) {
  std::string why;
  if (!CanUnshareMounts(&why)) GTEST_SKIP() << why;
  // The allowed twin listens on 127.0.0.1 on the same port, so only the address differs. Other
  // test processes use ports on 127.0.0.1 too; when the port is taken there, pick another.
  std::unique_ptr<TlsServer> inside;
  std::unique_ptr<TlsServer> outside;
  for (int attempt = 0; attempt < 20 && !outside; ++attempt) {
    inside = EchoOnOtherLoopback();
    if (!PortIsFreeOnLoopback(inside->port())) continue;
    TlsServerOptions same_port;
    same_port.port = inside->port();
    outside = std::make_unique<TlsServer>(world_.ca.Issue(CertOptions{{"example.com"}}), Echo(),
                                          same_port);
  }
  ASSERT_TRUE(outside) << "no port free on both 127.0.0.1 and 127.0.0.2";
  DnsmasqServer dns(world_.dir, "127.0.0.1 rebind.example\n");
  ASSERT_TRUE(dns.valid()) << dns.error();
  world_.Publish(
      "xmpp-client",
      nlohmann::json::array({World::Entry("rebind.example", inside->port(), "example.com")}).dump(),
      {{"Cache-Control", "max-age=3600"}});
  world_.deputy = std::make_unique<DeputyProcess>(world_.config);
  world_.deputy->SetLauncher(PrivateResolverLauncher(world_.dir, dns.address(), "attempts:1"));
  std::string error;
  ASSERT_TRUE(world_.deputy->Start(&error)) << error << "\n" << world_.deputy->Stderr();

  world_.ExpectTunnel("example.org:xmpp-client");
  EXPECT_EQ(outside->accepted().value(), 1u);
  ASSERT_TRUE(dns.SetHosts("127.0.0.2 rebind.example\n"));
  ExpectProhibited("example.org:xmpp-client");
  // Both at once: the prohibited answer is skipped, the allowed one used.
  ASSERT_TRUE(dns.SetHosts("127.0.0.2 rebind.example\n127.0.0.1 rebind.example\n"));
  world_.ExpectTunnel("example.org:xmpp-client");

  EXPECT_EQ(outside->accepted().value(), 2u);
  EXPECT_EQ(inside->accepted().value(), 0u) << "the rebound address was reached";
  EXPECT_GE(dns.Queries("rebind.example"), 3u) << "every connect asks DNS again";
  EXPECT_EQ(world_.Fetches("xmpp-client"), 1) << "the delegation itself came from the cache";
}

}  // namespace
}  // namespace deputy::test
