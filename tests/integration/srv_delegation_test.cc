// DNS SRV as a delegation source, against a real dnsmasq: a record routes the tunnel and the
// certificate is verified for the delegating domain, never the SRV target; "." refuses; no
// record passes to the next source; a lookup that fails refuses rather than pass.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "integration/world.h"
#include "support/dnsmasq_server.h"

namespace deputy::test {
namespace {

class SrvDelegationTest : public ::testing::Test {
 protected:
  // StartDns serves `records` (dnsmasq --srv-host values) with example.org and example.net
  // local, so a name it does not know is NXDOMAIN; deputy asks it and nothing else.
  void StartDns(const std::vector<std::string>& records) {
    std::vector<std::string> options = {"--local=/example.org/", "--local=/example.net/"};
    for (const std::string& record : records) options.push_back("--srv-host=" + record);
    dns_ = std::make_unique<DnsmasqServer>(dir_, "", options);
    ASSERT_TRUE(dns_->valid()) << dns_->error();
    world_.config["dns"]["servers"] = {dns_->address()};
  }

  TempDir dir_;
  World world_;
  std::unique_ptr<DnsmasqServer> dns_;
};

TEST_F(SrvDelegationTest, ARecordRoutesTheTunnelVerifiedForTheDelegatingDomain) {
  auto upstream = world_.EchoServer({"example.net"});
  StartDns({"_xmpps-client._tcp.example.net,xmpp.example.com," + std::to_string(upstream->port()) +
            ",0,0"});
  world_.config["discovery"]["sources"] = {"srv"};
  world_.StartDeputy();

  world_.ExpectTunnel("example.net:xmpp-client");
  EXPECT_EQ(upstream->last_sni(), "example.net");
  EXPECT_EQ(dns_->Queries("_xmpps-client._tcp.example.net", "SRV"), 1u);
  EXPECT_EQ(world_.Fetches("xmpp-client"), 0);
}

TEST_F(SrvDelegationTest, ACertificateValidOnlyForTheSrvTargetIsRefused) {
  auto upstream = world_.EchoServer({"xmpp.example.com"});
  StartDns({"_xmpps-client._tcp.example.net,xmpp.example.com," + std::to_string(upstream->port()) +
            ",0,0"});
  world_.config["discovery"]["sources"] = {"srv"};
  world_.StartDeputy();

  ExpectRefusal(world_.OpenTunnel("example.net:xmpp-client").head, 502, "tls_certificate_error");
}

TEST_F(SrvDelegationTest, LowerPriorityIsTriedFirstAndADeadOneMovesToTheNext) {
  auto upstream = world_.EchoServer({"example.net"});
  uint16_t closed_port = 0;
  Socket closed = ReserveClosedPort(&closed_port);
  StartDns(
      {"_imaps._tcp.example.net,backup.example.com," + std::to_string(upstream->port()) + ",20,0",
       "_imaps._tcp.example.net,xmpp.example.com," + std::to_string(closed_port) + ",10,0"});
  world_.config["discovery"]["sources"] = {"srv"};
  world_.StartDeputy();

  world_.ExpectTunnel("example.net:imaps");
  EXPECT_EQ(upstream->last_sni(), "example.net");
}

TEST_F(SrvDelegationTest, ARootTargetSaysTheServiceIsNotAvailable) {
  auto direct = world_.EchoServer({"example.net"});
  StartDns({"_xmpps-client._tcp.example.net,."});
  world_.config["discovery"]["sources"] = {"srv", "direct"};
  world_.config["services"] = {{"xmpp-client", direct->port()}};
  world_.StartDeputy();

  auto refused = world_.OpenTunnel("example.net:xmpp-client");
  ExpectRefusal(refused.head, 403, "http_request_denied");
  EXPECT_NE(refused.head->Header("proxy-status").value_or("").find("decidedly not available"),
            std::string::npos);
  EXPECT_EQ(direct->accepted().value(), 0u);
}

TEST_F(SrvDelegationTest, NoRecordPassesToTheNextSource) {
  auto upstream = world_.EchoServer({"example.com"});
  world_.PublishTarget("xmpp-client", upstream->port());
  StartDns({});
  world_.config["discovery"]["sources"] = {"srv", "well-known"};
  world_.StartDeputy();

  world_.ExpectTunnel("example.org:xmpp-client");
  EXPECT_EQ(dns_->Queries("_xmpps-client._tcp.example.org", "SRV"), 1u);
  EXPECT_EQ(world_.Fetches("xmpp-client"), 1);
}

TEST_F(SrvDelegationTest, AFailedLookupRefusesInsteadOfPassingOn) {
  auto direct = world_.EchoServer({"other.example.com"});
  StartDns({});  // other.example.com is not local: dnsmasq, with no upstream, refuses
  world_.config["discovery"]["sources"] = {"srv", "direct"};
  world_.config["services"] = {{"xmpp-client", direct->port()}};
  world_.StartDeputy();

  auto refused = world_.OpenTunnel("other.example.com:xmpp-client");
  ExpectRefusal(refused.head, 502, "dns_error");
  EXPECT_NE(refused.head->Header("proxy-status").value_or("").find("SRV lookup of"),
            std::string::npos);
  EXPECT_EQ(direct->accepted().value(), 0u);
}

TEST_F(SrvDelegationTest, ResolveShowsTheSourceThatAnsweredAndEachRecord) {
  auto upstream = world_.EchoServer({"example.net"});
  StartDns({"_xmpps-client._tcp.example.net,xmpp.example.com," + std::to_string(upstream->port()) +
            ",5,7"});
  world_.PublishResponse("xmpp-client", {.status = 404});
  world_.config["discovery"]["sources"] = {"well-known", "srv"};
  const std::string config = world_.dir.Write("resolve.json", world_.config.dump());

  RunResult resolved =
      DeputyProcess::RunCommand({"resolve", "example.net", "xmpp-client", "-c", config});
  EXPECT_EQ(resolved.exit_code, 0) << resolved.stdout_text << resolved.stderr_text;
  const std::string& out = resolved.stdout_text;
  EXPECT_NE(out.find("answer: HTTP 404"), std::string::npos) << out;
  EXPECT_NE(out.find("source srv: asking _xmpps-client._tcp.example.net"), std::string::npos)
      << out;
  EXPECT_NE(out.find("SRV priority 5 weight 7 port " + std::to_string(upstream->port()) +
                     " target xmpp.example.com"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("delegated by srv"), std::string::npos) << out;
  EXPECT_NE(out.find("verifies as example.net"), std::string::npos) << out;
}

}  // namespace
}  // namespace deputy::test
