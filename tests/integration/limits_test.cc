// Limits that keep one client (or many) from taking deputy's resources.
#include <gtest/gtest.h>

#include "integration/world.h"

namespace deputy::test {
namespace {

TEST(LimitsTest, ConnectionsBeyondTheListenerLimitAreClosedAndCounted) {
  World world;
  world.config["listeners"][0]["max_connections"] = 2;
  DeputyProcess& deputy = world.StartDeputy();
  Socket first = ConnectTcp(deputy.Port("connect"));
  Socket second = ConnectTcp(deputy.Port("connect"));
  // A request on the second connection proves deputy has accepted both before the third.
  ASSERT_TRUE(SendAll(second.fd(), "GET / HTTP/1.1\r\n\r\n"));
  auto refused = ReadHttpResponseHead(second.fd());
  ASSERT_TRUE(refused.has_value());
  ASSERT_EQ(refused->status, 405);
  // The second connection is still lingering, so a third is over the limit.
  Socket third = ConnectTcp(deputy.Port("connect"));
  Received end = RecvSome(third.fd());
  EXPECT_TRUE(end.end == RecvEnd::kEof || end.end == RecvEnd::kReset);
  auto metrics = HttpGet(deputy.Port("admin"), "/metrics");
  ASSERT_TRUE(metrics.has_value());
  EXPECT_NE(metrics->body.find(
                "deputy_tunnels_total{listener=\"connect\",result=\"connection_limit\"} 1"),
            std::string::npos)
      << metrics->body;
}

}  // namespace
}  // namespace deputy::test
