#include <gtest/gtest.h>

#include "frontends/connect_frontend.h"

namespace deputy {
namespace {

TEST(ConnectAuthorityTest, DomainAndServiceName) {
  Config config;
  config.services["xmpp-client"] = 5222;
  auto destination = ConnectFrontend::ParseAuthority("Example.ORG.:xmpp-client", config);
  ASSERT_TRUE(destination.ok()) << destination.status().message();
  EXPECT_EQ(destination->domain, "example.org");
  EXPECT_EQ(destination->service, "xmpp-client");
  EXPECT_EQ(destination->port, 5222);
}

TEST(ConnectAuthorityTest, PortMapsToServiceThroughConfigFirst) {
  Config config;
  config.services["my-svc"] = 4444;
  auto destination = ConnectFrontend::ParseAuthority("example.org:4444", config);
  ASSERT_TRUE(destination.ok());
  EXPECT_EQ(destination->service, "my-svc");
  EXPECT_EQ(destination->port, 4444);
}

TEST(ConnectAuthorityTest, UnmappedPortKeepsThePortWithoutService) {
  Config config;
  auto destination = ConnectFrontend::ParseAuthority("example.org:47999", config);
  ASSERT_TRUE(destination.ok());
  EXPECT_EQ(destination->service, "");
  EXPECT_EQ(destination->port, 47999);
}

TEST(ConnectAuthorityTest, RejectsBadAuthorities) {
  Config config;
  for (const char* bad :
       {"example.org", "example.org:", ":443", "127.0.0.1:443", "[::1]:443", "example.org:0",
        "example.org:70000", "exa mple.org:443", "example.org:-xmpp", "example.org:a--b",
        "example.org:thisnameistoolong"}) {
    auto destination = ConnectFrontend::ParseAuthority(bad, config);
    EXPECT_FALSE(destination.ok()) << bad;
    if (!destination.ok()) EXPECT_EQ(destination.status().code(), ErrorCode::kBadRequest) << bad;
  }
}

}  // namespace
}  // namespace deputy
