// Global limits on lookup work no client pays for: fetches in flight, and a delegation cache
// bounded in entries, in bytes and per domain, evicting least recently used.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <vector>

#include "integration/world.h"
#include "support/metric_wait.h"

namespace deputy::test {
namespace {

class DiscoveryLimitsTest : public ::testing::Test {
 protected:
  DiscoveryLimitsTest() {
    // 404 answers are cached (negative_ttl_s) and, with "deny", refused at once with 403: each
    // lookup is one quick round trip and one cache entry, with no upstream involved.
    world_.config["discovery"]["fallback"] = "deny";
  }

  // Denied opens a tunnel to `authority` and expects the 403 of a non-delegating domain.
  void ExpectDenied(const std::string& authority) {
    ExpectRefusal(world_.OpenTunnel(authority).head, 403, "http_request_denied");
  }

  // ExpectEvictions checks the cache's eviction counters for the two reasons a full cache has.
  void ExpectEvictions(int domain_share, int lru) {
    std::string metrics = Metrics();
    EXPECT_NE(metrics.find("deputy_delegation_cache_evictions_total{reason=\"domain_share\"} " +
                           std::to_string(domain_share) + "\n"),
              std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find("deputy_delegation_cache_evictions_total{reason=\"lru\"} " +
                           std::to_string(lru) + "\n"),
              std::string::npos)
        << metrics;
  }

  std::string Metrics() {
    auto metrics = HttpGet(world_.deputy->Port("admin"), "/metrics");
    return metrics ? metrics->body : "";
  }

  World world_;
};

TEST_F(DiscoveryLimitsTest, NewKeyBeyondMaxInflightFetchesIsRefusedAtOnceButJoiningIsNot) {
  world_.config["discovery"]["max_inflight_fetches"] = 2;
  world_.config["discovery"]["timeout_ms"] = 30000;
  // "slow" answers late (404, so 403 for its clients); "silent" never answers.
  world_.PublishResponse("slow", {.status = 404, .delay_ms = 3000});
  world_.PublishResponse("silent", {.never_answer = true});
  DeputyProcess& deputy = world_.StartDeputy();
  Socket slow = ConnectTcp(deputy.Port("connect"));
  Socket silent = ConnectTcp(deputy.Port("connect"));
  ASSERT_TRUE(SendAll(slow.fd(), ConnectRequest("example.org:slow")));
  ASSERT_TRUE(SendAll(silent.fd(), ConnectRequest("example.org:silent")));
  ASSERT_TRUE(world_.well_known->WaitForRequests("/.well-known/service/slow", 1));
  ASSERT_TRUE(world_.well_known->WaitForRequests("/.well-known/service/silent", 1));

  // Both slots are taken. A lookup joining "slow" is accepted...
  Socket joining = ConnectTcp(deputy.Port("connect"));
  ASSERT_TRUE(SendAll(joining.fd(), ConnectRequest("example.org:slow")));
  // ...and one for a third key is refused without waiting for either fetch.
  auto started = std::chrono::steady_clock::now();
  auto refused = world_.OpenTunnel("example.org:other");
  auto waited = std::chrono::steady_clock::now() - started;
  ExpectRefusal(refused.head, 503, "connection_limit_reached");
  EXPECT_NE(refused.head->Header("proxy-status")->find("max_inflight_fetches = 2"),
            std::string::npos)
      << *refused.head->Header("proxy-status");
  EXPECT_LT(waited, std::chrono::milliseconds(2000)) << "the refusal waited for a fetch";
  EXPECT_EQ(world_.Fetches("other"), 0);

  for (Socket* client : {&slow, &joining}) {
    auto head = ReadHttpResponseHead(client->fd());
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->status, 403) << "the joining lookup shared the slow fetch's answer";
  }
  EXPECT_EQ(world_.Fetches("slow"), 1);

  std::string metrics = Metrics();
  EXPECT_NE(metrics.find("deputy_delegation_lookups_total{result=\"limit\"} 1"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("deputy_tunnels_total{listener=\"connect\",result=\"lookup_limit\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("deputy_delegation_fetches_in_flight 1"), std::string::npos)
      << "only the silent fetch is left: " << metrics;
  // The silent lookup would wait out the 5 s drain; a second signal ends it at once.
  ASSERT_EQ(kill(deputy.pid(), SIGTERM), 0);
  ASSERT_TRUE(deputy.WaitForStderr("shutting down"));
  ASSERT_EQ(kill(deputy.pid(), SIGTERM), 0);
  EXPECT_EQ(deputy.WaitForExit(kDefaultTimeout), 0);
}

TEST_F(DiscoveryLimitsTest, ManyServicesOfOneDomainDoNotEvictAnotherDomainsEntry) {
  world_.config["discovery"]["cache_max_entries"] = 8;
  world_.config["discovery"]["max_entries_per_domain"] = 4;
  world_.StartDeputy();
  ExpectDenied("example.org:victim");
  // Twenty service names under one domain: far beyond the whole cache's 8 entries.
  for (int i = 0; i < 20; ++i) ExpectDenied("many.example:svc" + std::to_string(i));
  ExpectDenied("example.org:victim");
  EXPECT_EQ(world_.Fetches("victim"), 1) << "the other domain's entry was evicted";
  // The crowded domain lost its own least recently used entries, and kept its newest.
  ExpectDenied("many.example:svc19");
  EXPECT_EQ(world_.Fetches("svc19"), 1);
  ExpectDenied("many.example:svc0");
  EXPECT_EQ(world_.Fetches("svc0"), 2);

  ExpectEvictions(17, 0);
  EXPECT_NE(Metrics().find("deputy_delegation_cache_entries 5"), std::string::npos) << Metrics();
}

// Subdomains cost an attacker nothing, so the share is the registrable domain (libpsl), not the
// exact name: twenty names under many.example hold four entries between them.
TEST_F(DiscoveryLimitsTest, SubdomainsOfOneRegistrableDomainShareItsEntries) {
  world_.config["discovery"]["cache_max_entries"] = 8;
  world_.config["discovery"]["max_entries_per_domain"] = 4;
  for (int i = 0; i < 20; ++i) {
    world_.config["dns"]["hosts"]["n" + std::to_string(i) + ".many.example"] = {"127.0.0.1"};
  }
  world_.StartDeputy();
  ExpectDenied("example.org:victim");
  for (int i = 0; i < 20; ++i) ExpectDenied("n" + std::to_string(i) + ".many.example:sub");
  ExpectDenied("example.org:victim");
  EXPECT_EQ(world_.Fetches("victim"), 1) << "the other domain's entry was evicted";
  EXPECT_EQ(world_.Fetches("sub"), 20);
  ExpectDenied("n19.many.example:sub");
  EXPECT_EQ(world_.Fetches("sub"), 20) << "the newest subdomain's entry is kept";
  ExpectDenied("n0.many.example:sub");
  EXPECT_EQ(world_.Fetches("sub"), 21) << "the oldest subdomain's entry went";

  ExpectEvictions(17, 0);
}

TEST_F(DiscoveryLimitsTest, OneRegistrableDomainCannotTakeEveryFetchSlot) {
  world_.config["discovery"]["max_inflight_fetches_per_domain"] = 2;
  for (int i = 0; i < 3; ++i) {
    world_.config["dns"]["hosts"]["n" + std::to_string(i) + ".many.example"] = {"127.0.0.1"};
  }
  world_.PublishResponse("silent", {.never_answer = true});
  DeputyProcess& deputy = world_.StartDeputy();
  std::vector<Socket> waiting;
  for (int i = 0; i < 2; ++i) {
    waiting.push_back(ConnectTcp(deputy.Port("connect")));
    ASSERT_TRUE(SendAll(waiting.back().fd(),
                        ConnectRequest("n" + std::to_string(i) + ".many.example:silent")));
  }
  ASSERT_TRUE(world_.well_known->WaitForRequests("/.well-known/service/silent", 2));

  auto refused = world_.OpenTunnel("n2.many.example:silent");
  ExpectRefusal(refused.head, 503, "connection_limit_reached");
  ASSERT_TRUE(refused.head.has_value());
  EXPECT_NE(refused.head->Header("proxy-status")
                ->find("under many.example (discovery.max_inflight_fetches_per_domain = 2)"),
            std::string::npos)
      << *refused.head->Header("proxy-status");
  EXPECT_EQ(world_.Fetches("silent"), 2);

  // Another registrable domain still gets a fetch of its own.
  waiting.push_back(ConnectTcp(deputy.Port("connect")));
  ASSERT_TRUE(SendAll(waiting.back().fd(), ConnectRequest("example.org:silent")));
  ASSERT_TRUE(world_.well_known->WaitForRequests("/.well-known/service/silent", 3));
  std::string metrics = Metrics();
  EXPECT_NE(metrics.find("deputy_delegation_lookups_total{result=\"limit\"} 1"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("deputy_delegation_fetches_in_flight 3"), std::string::npos) << metrics;

  // When a client leaves, its cancelled fetch frees the domain's slot.
  waiting.front() = Socket();
  ASSERT_TRUE(WaitForMetricAtLeast(deputy.Port("admin"),
                                   "deputy_delegation_fetches_total{status=\"cancelled\"}", 1));
  Socket again = ConnectTcp(deputy.Port("connect"));
  ASSERT_TRUE(SendAll(again.fd(), ConnectRequest("n2.many.example:silent")));
  ASSERT_TRUE(world_.well_known->WaitForRequests("/.well-known/service/silent", 4));

  // The silent lookups would wait out the 5 s drain; a second signal ends them at once.
  ASSERT_EQ(kill(deputy.pid(), SIGTERM), 0);
  ASSERT_TRUE(deputy.WaitForStderr("shutting down"));
  ASSERT_EQ(kill(deputy.pid(), SIGTERM), 0);
  EXPECT_EQ(deputy.WaitForExit(kDefaultTimeout), 0);
}

TEST_F(DiscoveryLimitsTest, FullCacheEvictsTheLeastRecentlyUsedEntry) {
  world_.config["discovery"]["cache_max_entries"] = 3;
  world_.StartDeputy();
  for (const char* service : {"svc-a", "svc-b", "svc-c"}) {
    ExpectDenied(std::string("example.org:") + service);
  }
  ExpectDenied("example.org:svc-a");  // a hit: svc-b is now the least recently used
  ExpectDenied("example.org:svc-d");
  for (const char* service : {"svc-a", "svc-c", "svc-d"}) {
    ExpectDenied(std::string("example.org:") + service);
    EXPECT_EQ(world_.Fetches(service), 1) << service << " should still be cached";
  }
  ExpectDenied("example.org:svc-b");
  EXPECT_EQ(world_.Fetches("svc-b"), 2);
  std::string metrics = Metrics();
  EXPECT_NE(metrics.find("deputy_delegation_cache_evictions_total{reason=\"lru\"} 2"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("deputy_delegation_cache_entries 3"), std::string::npos) << metrics;
}

TEST_F(DiscoveryLimitsTest, CacheOverItsByteBudgetEvictsTheLeastRecentlyUsedEntry) {
  // A 404 entry here is charged about 440 bytes (384 fixed, key and URL strings): room for two.
  world_.config["discovery"]["cache_max_bytes"] = 1100;
  world_.StartDeputy();
  ExpectDenied("example.org:svc-a");
  ExpectDenied("example.org:svc-b");
  ExpectDenied("example.org:svc-a");  // a hit: svc-b is now the least recently used
  ExpectDenied("example.org:svc-c");
  ExpectDenied("example.org:svc-a");
  ExpectDenied("example.org:svc-c");
  EXPECT_EQ(world_.Fetches("svc-a"), 1);
  EXPECT_EQ(world_.Fetches("svc-c"), 1);
  ExpectDenied("example.org:svc-b");
  EXPECT_EQ(world_.Fetches("svc-b"), 2);
  std::string metrics = Metrics();
  EXPECT_NE(metrics.find("deputy_delegation_cache_entries 2"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("deputy_delegation_cache_bytes 0"), std::string::npos) << metrics;
}

}  // namespace
}  // namespace deputy::test
