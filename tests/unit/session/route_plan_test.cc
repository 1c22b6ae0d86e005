#include "session/route_plan.h"

#include <gtest/gtest.h>

namespace deputy {
namespace {

Destination XmppDestination() { return Destination{"example.org", "xmpp-client", 5222}; }

TEST(RoutePlanTest, TargetsComeInPriorityOrder) {
  Delegation delegation;
  delegation.kind = Delegation::Kind::kTargets;
  delegation.targets = {{"b.example.com", 1, "example.com", 20, 0},
                        {"a.example.com", 2, "example.com", 10, 0}};
  std::mt19937_64 rng(1);
  auto route = PlanRoute(delegation, XmppDestination(), Fallback::kDirect, rng);
  ASSERT_TRUE(route.ok());
  ASSERT_EQ(route->size(), 2u);
  EXPECT_EQ((*route)[0].host, "a.example.com");
}

TEST(RoutePlanTest, EmptyDocumentIsDeniedWithoutFallback) {
  Delegation delegation;
  delegation.kind = Delegation::Kind::kEmpty;
  std::mt19937_64 rng(1);
  auto route = PlanRoute(delegation, XmppDestination(), Fallback::kDirect, rng);
  ASSERT_FALSE(route.ok());
  EXPECT_EQ(route.status().code(), ErrorCode::kDenied);
}

TEST(RoutePlanTest, NotDelegatedFallsBackToTheDomainOrIsDenied) {
  Delegation delegation;
  delegation.kind = Delegation::Kind::kNotDelegated;
  delegation.http_status = 404;
  std::mt19937_64 rng(1);
  auto direct = PlanRoute(delegation, XmppDestination(), Fallback::kDirect, rng);
  ASSERT_TRUE(direct.ok());
  ASSERT_EQ(direct->size(), 1u);
  EXPECT_EQ((*direct)[0].host, "example.org");
  EXPECT_EQ((*direct)[0].domain, "example.org");
  EXPECT_EQ((*direct)[0].port, 5222);

  auto denied = PlanRoute(delegation, XmppDestination(), Fallback::kDeny, rng);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), ErrorCode::kDenied);

  Destination no_port{"example.org", "unknown-svc", std::nullopt};
  auto no_route = PlanRoute(delegation, no_port, Fallback::kDirect, rng);
  EXPECT_FALSE(no_route.ok());
}

}  // namespace
}  // namespace deputy
