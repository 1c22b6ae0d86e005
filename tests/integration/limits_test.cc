// Limits that keep one client (or many) from taking deputy's resources.
#include <gtest/gtest.h>
#include <signal.h>

#include "integration/world.h"

namespace deputy::test {
namespace {

TEST(LimitsTest, ConnectionsBeyondTheListenerLimitAreClosedAndCounted) {
  World world;
  // A lookup that never completes keeps the first session open for as long as the test needs.
  world.PublishResponse("xmpp-client", {.never_answer = true});
  world.config["discovery"]["timeout_ms"] = 30000;
  world.config["listeners"].push_back({{"name", "xmpp"},
                                       {"type", "fixed"},
                                       {"address", "127.0.0.1:0"},
                                       {"domain", "example.org"},
                                       {"service", "xmpp-client"},
                                       {"port", 5222},
                                       {"max_connections", 1}});
  DeputyProcess& deputy = world.StartDeputy();
  Socket first = ConnectTcp(deputy.Port("xmpp"));
  ASSERT_TRUE(first.valid());
  // The fetch proves deputy accepted the first connection and holds it.
  ASSERT_TRUE(world.well_known->WaitForRequests("/.well-known/service/xmpp-client", 1));
  Socket second = ConnectTcp(deputy.Port("xmpp"));
  ASSERT_TRUE(second.valid());
  Received end = RecvSome(second.fd());
  EXPECT_TRUE(end.end == RecvEnd::kEof || end.end == RecvEnd::kReset);
  auto metrics = HttpGet(deputy.Port("admin"), "/metrics");
  ASSERT_TRUE(metrics.has_value());
  EXPECT_NE(
      metrics->body.find("deputy_tunnels_total{listener=\"xmpp\",result=\"connection_limit\"} 1"),
      std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("deputy_connections_active{listener=\"xmpp\"} 1"),
            std::string::npos);
  // The held session would wait out the 5 s drain; a second signal ends it at once.
  ASSERT_EQ(kill(deputy.pid(), SIGTERM), 0);
  ASSERT_TRUE(deputy.WaitForStderr("shutting down"));
  ASSERT_EQ(kill(deputy.pid(), SIGTERM), 0);
  EXPECT_EQ(deputy.WaitForExit(kDefaultTimeout), 0);
}

}  // namespace
}  // namespace deputy::test
