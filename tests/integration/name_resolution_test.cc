// deputy asks its name servers for every name as it is written: the search domains and ndots of
// resolv.conf, which in Kubernetes (ndots:5) send a name through every search domain first,
// never apply, so a target name cannot land on a host of the search domain's choosing.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "integration/world.h"
#include "support/client.h"
#include "support/dnsmasq_server.h"
#include "support/private_resolver.h"

namespace deputy::test {
namespace {

TEST(NameResolutionTest, ATargetNameIsNeverTriedUnderTheSearchDomains) {
  std::string why;
  if (!CanUnshareMounts(&why)) GTEST_SKIP() << why;
  World world;
  auto echo = world.EchoServer({"example.com"});
  // Only the name the search domain would make of the target exists.
  DnsmasqServer dns(world.dir, "127.0.0.1 xmpp.internal.example.org\n");
  ASSERT_TRUE(dns.valid()) << dns.error();
  world.Publish(
      "xmpp-client",
      nlohmann::json::array({World::Entry("xmpp.internal", echo->port(), "example.com")}).dump());
  world.deputy = std::make_unique<DeputyProcess>(world.config);
  world.deputy->SetLauncher(
      PrivateResolverLauncher(world.dir, dns.address(), "ndots:5", "example.org"));
  std::string error;
  ASSERT_TRUE(world.deputy->Start(&error)) << error << "\n" << world.deputy->Stderr();

  World::Opened tunnel = world.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(tunnel.head.has_value());
  EXPECT_EQ(tunnel.head->status, 502);
  EXPECT_NE(tunnel.head->Header("Proxy-Status").value_or("").find("dns_error"), std::string::npos)
      << tunnel.head->Header("Proxy-Status").value_or("");
  EXPECT_GE(dns.Queries("xmpp.internal"), 1u);
  EXPECT_EQ(dns.Queries("xmpp.internal.example.org"), 0u);
  EXPECT_EQ(echo->accepted().value(), 0u);
}

}  // namespace
}  // namespace deputy::test
