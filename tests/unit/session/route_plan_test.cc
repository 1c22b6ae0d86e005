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
  auto route = PlanRoute(delegation, XmppDestination(), rng);
  ASSERT_TRUE(route.ok());
  ASSERT_EQ(route->size(), 2u);
  EXPECT_EQ((*route)[0].host, "a.example.com");
}

TEST(RoutePlanTest, EmptyDocumentIsDenied) {
  Delegation delegation;
  delegation.kind = Delegation::Kind::kEmpty;
  std::mt19937_64 rng(1);
  auto route = PlanRoute(delegation, XmppDestination(), rng);
  ASSERT_FALSE(route.ok());
  EXPECT_EQ(route.status().code(), ErrorCode::kDenied);
  EXPECT_NE(route.status().message().find("empty delegation"), std::string::npos);
}

TEST(RoutePlanTest, AnSrvRootTargetSaysTheServiceIsDecidedlyNotAvailable) {
  Delegation delegation;
  delegation.kind = Delegation::Kind::kEmpty;
  delegation.source = DiscoverySource::kSrv;
  delegation.url = "_xmpps-client._tcp.example.org";
  std::mt19937_64 rng(1);
  auto route = PlanRoute(delegation, XmppDestination(), rng);
  ASSERT_FALSE(route.ok());
  EXPECT_EQ(route.status().code(), ErrorCode::kDenied);
  EXPECT_EQ(route.status().message(),
            "example.org says xmpp-client is decidedly not available (SRV "
            "_xmpps-client._tcp.example.org has the target \".\")");
}

TEST(RoutePlanTest, DirectIsTheDomainItselfOnTheServicePort) {
  auto direct = DirectRoute(XmppDestination(), "example.org does not delegate xmpp-client");
  ASSERT_TRUE(direct.ok());
  ASSERT_EQ(direct->size(), 1u);
  EXPECT_EQ((*direct)[0].host, "example.org");
  EXPECT_EQ((*direct)[0].domain, "example.org");
  EXPECT_EQ((*direct)[0].port, 5222);

  Destination no_port{"example.org", "unknown-svc", std::nullopt};
  auto no_route = DirectRoute(no_port, "example.org does not delegate unknown-svc");
  ASSERT_FALSE(no_route.ok());
  EXPECT_EQ(no_route.status().code(), ErrorCode::kDenied);
}

TEST(RoutePlanTest, NotDelegatedReasonNamesWhatWasAsked) {
  Delegation http;
  http.kind = Delegation::Kind::kNotDelegated;
  http.http_status = 404;
  EXPECT_EQ(NotDelegatedReason(http, XmppDestination()),
            "example.org does not delegate xmpp-client (HTTP 404)");
  Delegation srv;
  srv.kind = Delegation::Kind::kNotDelegated;
  srv.source = DiscoverySource::kSrv;
  srv.url = "_xmpps-client._tcp.example.org";
  EXPECT_EQ(NotDelegatedReason(srv, XmppDestination()),
            "example.org does not delegate xmpp-client (no SRV record "
            "_xmpps-client._tcp.example.org)");
}

}  // namespace
}  // namespace deputy
