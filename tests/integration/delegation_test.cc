// How the delegation document steers (or refuses) a tunnel: fallback policy, hostile documents
// and servers, and the cache.
#include <gtest/gtest.h>

#include <thread>

#include "integration/world.h"

namespace deputy::test {
namespace {

class DelegationTest : public ::testing::Test {
 protected:
  World world_;
};

TEST_F(DelegationTest, NotFoundWithDirectFallbackConnectsToTheDomainItself) {
  auto direct = world_.EchoServer({"example.net"});
  world_.config["services"] = {{"xmpp-client", direct->port()}};
  world_.StartDeputy();
  auto tunnel = world_.OpenTunnel("example.net:xmpp-client");
  ASSERT_TRUE(tunnel.head.has_value());
  ASSERT_EQ(tunnel.head->status, 200);
  ASSERT_TRUE(SendAll(tunnel.socket.fd(), "direct"));
  EXPECT_EQ(tunnel.head->extra + RecvExact(tunnel.socket.fd(), 6 - tunnel.head->extra.size()).data,
            "direct");
  EXPECT_EQ(direct->last_sni(), "example.net");
  EXPECT_EQ(world_.Fetches("xmpp-client"), 1);
}

TEST_F(DelegationTest, NotFoundWithDenyFallbackIsForbidden) {
  auto direct = world_.EchoServer({"example.net"});
  world_.config["services"] = {{"xmpp-client", direct->port()}};
  world_.config["discovery"]["fallback"] = "deny";
  world_.StartDeputy();
  auto tunnel = world_.OpenTunnel("example.net:xmpp-client");
  ExpectRefusal(tunnel.head, 403, "http_request_denied");
  EXPECT_EQ(direct->accepted().value(), 0u);
}

TEST_F(DelegationTest, GoneIsTreatedLikeNotFound) {
  world_.PublishResponse("xmpp-client", {.status = 410});
  world_.config["discovery"]["fallback"] = "deny";
  world_.StartDeputy();
  ExpectRefusal(world_.OpenTunnel("example.org:xmpp-client").head, 403, "http_request_denied");
}

TEST_F(DelegationTest, EmptyDocumentIsForbiddenWithoutFallback) {
  auto direct = world_.EchoServer({"example.org"});
  world_.config["services"] = {{"xmpp-client", direct->port()}};
  world_.Publish("xmpp-client", "[]");
  world_.StartDeputy();
  ExpectRefusal(world_.OpenTunnel("example.org:xmpp-client").head, 403, "http_request_denied");
  EXPECT_EQ(direct->accepted().value(), 0u);
}

struct HostileCase {
  std::string name;
  WellKnownServer::Response response;
  int status;
  std::string error_type;
};

class HostileDocumentTest : public ::testing::TestWithParam<HostileCase> {};

std::vector<HostileCase> HostileCases() {
  auto json = [](std::string body) {
    WellKnownServer::Response r;
    r.body = std::move(body);
    return r;
  };
  WellKnownServer::Response too_big = json("[" + std::string(1 << 20, ' ') + "]");
  WellKnownServer::Response to_http;
  to_http.status = 302;
  to_http.headers = {{"Location", "http://example.org/.well-known/service/xmpp-client"}};
  WellKnownServer::Response loop;
  loop.status = 301;
  loop.headers = {{"Location", "/.well-known/service/xmpp-client"}};
  WellKnownServer::Response error;
  error.status = 500;
  error.body = "oops";
  return {
      {"malformed_json", json("[{\"host\": \"x\", "), 502, "destination_not_found"},
      {"not_an_array", json("{\"host\":\"xmpp.example.com\",\"port\":5222}"), 502,
       "destination_not_found"},
      {"wrong_member_types", json("[{\"host\": 42, \"port\": \"5222\"}]"), 502,
       "destination_not_found"},
      {"port_zero", json("[{\"host\": \"xmpp.example.com\", \"port\": 0}]"), 502,
       "destination_not_found"},
      {"port_70000", json("[{\"host\": \"xmpp.example.com\", \"port\": 70000}]"), 502,
       "destination_not_found"},
      {"one_mebibyte_body", too_big, 502, "http_response_body_size"},
      {"redirect_to_http", to_http, 502, "http_protocol_error"},
      {"redirect_loop", loop, 502, "http_protocol_error"},
      {"status_500", error, 502, "destination_not_found"},
  };
}

TEST_P(HostileDocumentTest, RefusedWith502AndNoUpstreamConnection) {
  World world;
  // A live upstream the document could point at: it must never be contacted.
  auto upstream = world.EchoServer({"xmpp.example.com"});
  world.config["services"] = {{"xmpp-client", upstream->port()}};
  world.PublishResponse("xmpp-client", GetParam().response);
  DeputyProcess& deputy = world.StartDeputy();
  auto tunnel = world.OpenTunnel("example.org:xmpp-client", "secret early data");
  ExpectRefusal(tunnel.head, GetParam().status, GetParam().error_type);
  tunnel.socket.Close();
  ASSERT_TRUE(deputy.WaitForAccessLogLines(1, kDefaultTimeout));
  EXPECT_EQ(upstream->accepted().value(), 0u);
  EXPECT_NE(deputy.AccessLog().at(0)["result"], "ok");
}

INSTANTIATE_TEST_SUITE_P(Documents, HostileDocumentTest, ::testing::ValuesIn(HostileCases()),
                         [](const auto& info) { return info.param.name; });

TEST_F(DelegationTest, WellKnownCertificateForTheWrongNameIsRefused) {
  WellKnownServer impostor(world_.ca.Issue(CertOptions{{"not-example.org"}}));
  auto upstream = world_.EchoServer({"example.org"});
  impostor.Set("/.well-known/service/xmpp-client",
               {.body = World::Entry("example.org", upstream->port(), "example.org").dump()});
  world_.config["discovery"]["url_template"] =
      "https://{domain}:" + std::to_string(impostor.port()) + "/.well-known/service/{service}";
  world_.config["services"] = {{"xmpp-client", upstream->port()}};
  world_.StartDeputy();
  ExpectRefusal(world_.OpenTunnel("example.org:xmpp-client").head, 502, "tls_certificate_error");
  EXPECT_EQ(impostor.TotalRequests(), 0);
  EXPECT_EQ(upstream->accepted().value(), 0u);
}

TEST_F(DelegationTest, SilentWellKnownServerTimesOutWith504) {
  world_.PublishResponse("xmpp-client", {.never_answer = true});
  world_.config["discovery"]["timeout_ms"] = 500;
  world_.StartDeputy();
  auto started = std::chrono::steady_clock::now();
  auto tunnel = world_.OpenTunnel("example.org:xmpp-client");
  auto waited = std::chrono::steady_clock::now() - started;
  ExpectRefusal(tunnel.head, 504, "http_response_timeout");
  EXPECT_LT(waited, std::chrono::seconds(5));
}

TEST_F(DelegationTest, SecondTunnelUsesTheCache) {
  auto echo = world_.EchoServer({"example.com"});
  world_.PublishTarget("xmpp-client", echo->port());
  DeputyProcess& deputy = world_.StartDeputy();
  for (int i = 0; i < 2; ++i) {
    auto tunnel = world_.OpenTunnel("example.org:xmpp-client");
    ASSERT_TRUE(tunnel.head.has_value());
    EXPECT_EQ(tunnel.head->status, 200);
  }
  EXPECT_EQ(world_.Fetches("xmpp-client"), 1);
  std::vector<WellKnownServer::Request> requests = world_.well_known->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/.well-known/service/xmpp-client");
  EXPECT_EQ(requests[0].sni, "example.org");
  EXPECT_EQ(FindHeader(requests[0].headers, "host").value_or(""),
            "example.org:" + std::to_string(world_.well_known->port()));
  auto metrics = HttpGet(deputy.Port("admin"), "/metrics");
  ASSERT_TRUE(metrics.has_value());
  EXPECT_NE(metrics->body.find("deputy_delegation_lookups_total{result=\"hit\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("deputy_delegation_lookups_total{result=\"miss\"} 1"),
            std::string::npos);
}

TEST_F(DelegationTest, MaxAgeOneExpires) {
  auto echo = world_.EchoServer({"example.com"});
  world_.PublishTarget("xmpp-client", echo->port(), {{"Cache-Control", "max-age=1"}});
  world_.StartDeputy();
  ASSERT_EQ(world_.OpenTunnel("example.org:xmpp-client").head->status, 200);
  ASSERT_EQ(world_.OpenTunnel("example.org:xmpp-client").head->status, 200);
  EXPECT_EQ(world_.Fetches("xmpp-client"), 1);
  // The lifetime itself is what is under test, so waiting it out is the point.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_EQ(world_.OpenTunnel("example.org:xmpp-client").head->status, 200);
  EXPECT_EQ(world_.Fetches("xmpp-client"), 2);
}

TEST_F(DelegationTest, FiftyConcurrentTunnelsToAColdKeyShareOneFetch) {
  auto echo = world_.EchoServer({"example.com"});
  WellKnownServer::Response slow;
  slow.body =
      nlohmann::json::array({World::Entry("xmpp.example.com", echo->port(), "example.com")}).dump();
  // The answer comes late, so all clients arrive while the fetch is in flight, and may not be
  // stored, so a client that missed the flight would fetch again and show in the count.
  slow.delay_ms = 2000;
  slow.headers = {{"Cache-Control", "no-store"}};
  world_.PublishResponse("xmpp-client", slow);
  world_.StartDeputy();
  std::vector<Socket> clients;
  for (int i = 0; i < 50; ++i) {
    clients.push_back(ConnectTcp(world_.deputy->Port("connect")));
    ASSERT_TRUE(SendAll(clients.back().fd(), ConnectRequest("example.org:xmpp-client")));
  }
  for (Socket& client : clients) {
    auto head = ReadHttpResponseHead(client.fd());
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->status, 200);
  }
  EXPECT_EQ(world_.Fetches("xmpp-client"), 1);
}

}  // namespace
}  // namespace deputy::test
