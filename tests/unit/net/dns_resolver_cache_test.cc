// What deputy's resolver asks a real name server (dnsmasq on loopback) and how often: an answer
// is kept for its TTL, lookups of one name share one query, CNAME chains and SRV records are
// read, NXDOMAIN and NODATA say what they are, queries beyond the limit are refused at once, and
// a reload's new name servers answer from then on.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loop/event_loop.h"
#include "loop/timer.h"
#include "net/dns_resolver.h"
#include "support/dnsmasq_server.h"
#include "support/silent_dns_server.h"
#include "support/temp_dir.h"

namespace deputy {
namespace {

using Clock = std::chrono::steady_clock;
using Addresses = Result<std::vector<IpEndpoint>>;

DnsSettings Settings(const std::string& server, uint32_t timeout_ms = 2000) {
  DnsSettings settings;
  settings.servers = {*ParseIpLiteral(server, 53)};
  settings.timeout_ms = timeout_ms;
  return settings;
}

// CountingObserver keeps what the resolver reports, by label.
class CountingObserver : public DnsObserver {
 public:
  void OnLookup(DnsType type, DnsLookupResult result) override {
    ++lookups[std::string(DnsTypeLabel(type)) + " " + std::string(DnsLookupResultLabel(result))];
  }
  void OnQuery(DnsType type, DnsQueryResult result, double) override {
    ++queries[std::string(DnsTypeLabel(type)) + " " + std::string(DnsQueryResultLabel(result))];
  }
  void OnCacheEntries(long delta) override { entries += delta; }
  void OnQueriesInFlight(long delta) override { in_flight += delta; }

  std::map<std::string, int> lookups;
  std::map<std::string, int> queries;
  long entries = 0;
  long in_flight = 0;
};

// ResolveAll starts a lookup of each of `hosts` at once and runs the loop until every one is
// answered (or 10 s pass).
std::vector<std::optional<Addresses>> ResolveAll(EventLoop& loop, DnsResolver& resolver,
                                                 const std::vector<std::string>& hosts) {
  std::vector<std::optional<Addresses>> answers(hosts.size());
  std::vector<std::unique_ptr<DnsQuery>> queries;
  size_t left = hosts.size();
  Timer guard(loop, [&loop] { loop.Stop(); });
  guard.Start(10000);
  for (size_t i = 0; i < hosts.size(); ++i) {
    queries.push_back(resolver.Resolve(hosts[i], 443, [&, i](Addresses result) {
      answers[i].emplace(std::move(result));
      if (--left == 0) loop.Stop();
    }));
  }
  loop.Run();
  return answers;
}

Addresses ResolveOne(EventLoop& loop, DnsResolver& resolver, const std::string& host) {
  std::optional<Addresses> answer = ResolveAll(loop, resolver, {host})[0];
  if (!answer) return Status(ErrorCode::kInternal, "no answer within 10 s");
  return std::move(*answer);
}

std::vector<std::string> Sorted(const Addresses& answer) {
  std::vector<std::string> out;
  for (const IpEndpoint& endpoint : *answer) out.push_back(endpoint.ToString());
  std::sort(out.begin(), out.end());
  return out;
}

Result<DnsAnswer> LookupOne(EventLoop& loop, DnsResolver& resolver, const std::string& name,
                            DnsType type) {
  std::optional<Result<DnsAnswer>> answer;
  Timer guard(loop, [&loop] { loop.Stop(); });
  guard.Start(10000);
  auto query = resolver.Lookup(name, type, [&](Result<DnsAnswer> result) {
    answer.emplace(std::move(result));
    loop.Stop();
  });
  loop.Run();
  if (!answer) return Status(ErrorCode::kInternal, "no answer within 10 s");
  return std::move(*answer);
}

TEST(DnsResolverCacheTest, AnAnswerIsKeptForItsTtl) {
  test::TempDir dir;
  test::DnsmasqServer dns(dir, "", {"--host-record=kept.example,127.0.0.7,::1,60"});
  ASSERT_TRUE(dns.valid()) << dns.error();
  EventLoop loop;
  CountingObserver observer;
  DnsResolver resolver(loop, Settings(dns.address()), &observer);

  for (int round = 0; round < 3; ++round) {
    Addresses answer = ResolveOne(loop, resolver, "kept.example");
    ASSERT_TRUE(answer.ok()) << answer.status().ToString();
    EXPECT_EQ(Sorted(answer), (std::vector<std::string>{"127.0.0.7:443", "[::1]:443"}));
  }
  EXPECT_EQ(dns.Queries("kept.example", "A"), 1u);
  EXPECT_EQ(dns.Queries("kept.example", "AAAA"), 1u);
  EXPECT_EQ(observer.lookups["A miss"], 1);
  EXPECT_EQ(observer.lookups["A hit"], 2);
  EXPECT_EQ(observer.queries["AAAA records"], 1);
  EXPECT_EQ(observer.entries, 2);
  EXPECT_EQ(observer.in_flight, 0);
  EXPECT_EQ(resolver.cached(), 2u);
}

TEST(DnsResolverCacheTest, ATtlOfZeroIsAskedAgainUnlessAMinimumIsConfigured) {
  test::TempDir dir;
  test::DnsmasqServer dns(dir, "127.0.0.7 zero.example\n");  // dnsmasq answers it with TTL 0
  ASSERT_TRUE(dns.valid()) << dns.error();
  EventLoop loop;
  DnsResolver resolver(loop, Settings(dns.address()));
  ASSERT_TRUE(ResolveOne(loop, resolver, "zero.example").ok());
  ASSERT_TRUE(ResolveOne(loop, resolver, "zero.example").ok());
  EXPECT_EQ(dns.Queries("zero.example"), 2u);

  DnsSettings floor = Settings(dns.address());
  floor.cache.min_ttl_s = 30;
  DnsResolver floored(loop, floor);
  ASSERT_TRUE(ResolveOne(loop, floored, "zero.example").ok());
  ASSERT_TRUE(ResolveOne(loop, floored, "zero.example").ok());
  EXPECT_EQ(dns.Queries("zero.example"), 3u);
}

TEST(DnsResolverCacheTest, ConcurrentLookupsOfOneNameShareOneQuery) {
  test::TempDir dir;
  test::DnsmasqServer dns(dir, "127.0.0.7 shared.example\n", {"--local=/example/"});
  ASSERT_TRUE(dns.valid()) << dns.error();
  EventLoop loop;
  CountingObserver observer;
  DnsResolver resolver(loop, Settings(dns.address()), &observer);

  std::vector<std::optional<Addresses>> answers =
      ResolveAll(loop, resolver, std::vector<std::string>(100, "shared.example"));
  for (const std::optional<Addresses>& answer : answers) {
    ASSERT_TRUE(answer && answer->ok());
    EXPECT_EQ(Sorted(*answer), (std::vector<std::string>{"127.0.0.7:443"}));
  }
  EXPECT_EQ(dns.Queries("shared.example", "A"), 1u);
  EXPECT_EQ(dns.Queries("shared.example", "AAAA"), 1u);
  EXPECT_EQ(observer.lookups["A joined"], 99);
}

TEST(DnsResolverCacheTest, ACnameChainLeadsToTheAddresses) {
  test::TempDir dir;
  test::DnsmasqServer dns(
      dir, "",
      {"--host-record=node.cdn.example,127.0.0.9,30", "--cname=www.example,edge.example,30",
       "--cname=edge.example,node.cdn.example,30"});
  ASSERT_TRUE(dns.valid()) << dns.error();
  EventLoop loop;
  DnsResolver resolver(loop, Settings(dns.address()));
  Addresses answer = ResolveOne(loop, resolver, "www.example");
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(Sorted(answer), (std::vector<std::string>{"127.0.0.9:443"}));
}

TEST(DnsResolverCacheTest, NxDomainAndNoDataAreToldApart) {
  test::TempDir dir;
  test::DnsmasqServer dns(dir, "127.0.0.7 v4only.example\n",
                          {"--local=/example/", "--txt-record=textonly.example,hello"});
  ASSERT_TRUE(dns.valid()) << dns.error();
  EventLoop loop;
  DnsResolver resolver(loop, Settings(dns.address()));

  Addresses missing = ResolveOne(loop, resolver, "missing.example");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kDnsError);
  EXPECT_EQ(missing.status().message(), "missing.example does not exist (NXDOMAIN)");

  Addresses text_only = ResolveOne(loop, resolver, "textonly.example");
  ASSERT_FALSE(text_only.ok());
  EXPECT_EQ(text_only.status().message(), "textonly.example has no IPv4 or IPv6 address");

  // A family without records costs nothing when the other has some.
  Addresses v4 = ResolveOne(loop, resolver, "v4only.example");
  ASSERT_TRUE(v4.ok()) << v4.status().ToString();
  EXPECT_EQ(Sorted(v4), (std::vector<std::string>{"127.0.0.7:443"}));
  Result<DnsAnswer> aaaa = LookupOne(loop, resolver, "v4only.example", DnsType::kAaaa);
  ASSERT_TRUE(aaaa.ok()) << aaaa.status().ToString();
  EXPECT_EQ(aaaa->kind, DnsAnswer::Kind::kNoData);
}

TEST(DnsResolverCacheTest, SrvRecordsAreReadWithTheirPrioritiesWeightsAndRootTarget) {
  test::TempDir dir;
  test::DnsmasqServer dns(dir, "",
                          {"--srv-host=_xmpps-client._tcp.example.org,xmpp1.example.com,5223,10,60",
                           "--srv-host=_xmpps-client._tcp.example.org,xmpp2.example.com,443,20,0",
                           "--srv-host=_xmpp-client._tcp.example.net,."});
  ASSERT_TRUE(dns.valid()) << dns.error();
  EventLoop loop;
  DnsResolver resolver(loop, Settings(dns.address()));

  Result<DnsAnswer> answer =
      LookupOne(loop, resolver, "_xmpps-client._tcp.example.org", DnsType::kSrv);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  ASSERT_EQ(answer->services.size(), 2u);
  std::vector<SrvRecord> records = answer->services;
  std::sort(records.begin(), records.end(),
            [](const SrvRecord& a, const SrvRecord& b) { return a.priority < b.priority; });
  EXPECT_EQ(records[0].target, "xmpp1.example.com");
  EXPECT_EQ(records[0].port, 5223);
  EXPECT_EQ(records[0].weight, 60);
  EXPECT_EQ(records[1].target, "xmpp2.example.com");
  EXPECT_EQ(records[1].priority, 20);

  Result<DnsAnswer> refused =
      LookupOne(loop, resolver, "_xmpp-client._tcp.example.net", DnsType::kSrv);
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  ASSERT_EQ(refused->services.size(), 1u);
  EXPECT_EQ(refused->services[0].target, "");
}

TEST(DnsResolverCacheTest, QueriesBeyondTheLimitAreRefusedAtOnce) {
  test::SilentDnsServer silent;
  ASSERT_TRUE(silent.valid()) << silent.error();
  EventLoop loop;
  CountingObserver observer;
  DnsSettings settings = Settings(silent.address(), 20000);
  settings.max_inflight_queries = 4;
  DnsResolver resolver(loop, settings, &observer);

  // Two names take the four queries (A and AAAA each); they wait for a server that never
  // answers.
  std::vector<std::unique_ptr<DnsQuery>> stuck;
  for (const char* name : {"one.example", "two.example"}) {
    stuck.push_back(resolver.Resolve(name, 443, [](Addresses) { ADD_FAILURE(); }));
  }
  const Clock::time_point start = Clock::now();
  Addresses refused = ResolveOne(loop, resolver, "three.example");
  ASSERT_FALSE(refused.ok());
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  EXPECT_NE(refused.status().message().find("dns.max_inflight_queries"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(observer.lookups["A limit"], 1);
  EXPECT_EQ(observer.lookups["AAAA limit"], 1);
  EXPECT_EQ(observer.in_flight, 4);

  // Given up, they are cancelled at once, and c-ares lets go of them on the next turn of the
  // loop: a lookup then is asked again.
  stuck.clear();
  EXPECT_EQ(observer.queries["A cancelled"], 2);
  EXPECT_EQ(observer.queries["AAAA cancelled"], 2);
  EXPECT_EQ(observer.in_flight, 0);
  Timer next_turn(loop, [&loop] { loop.Stop(); });
  next_turn.Start(0);
  loop.Run();
  auto asked = resolver.Resolve("four.example", 443, [](Addresses) { ADD_FAILURE(); });
  EXPECT_EQ(observer.lookups["A miss"], 3);
  EXPECT_EQ(observer.lookups["A limit"], 1);
}

TEST(DnsResolverCacheTest, NewNameServersAnswerAfterAReconfigureAndOldQueriesFinish) {
  test::TempDir dir_a;
  test::TempDir dir_b;
  test::DnsmasqServer before(dir_a, "", {"--host-record=moved.example,127.0.0.7,300"});
  test::DnsmasqServer after(dir_b, "", {"--host-record=moved.example,127.0.0.8,300"});
  ASSERT_TRUE(before.valid()) << before.error();
  ASSERT_TRUE(after.valid()) << after.error();
  test::SilentDnsServer silent;
  ASSERT_TRUE(silent.valid()) << silent.error();
  EventLoop loop;
  DnsResolver resolver(loop, Settings(before.address()));

  Addresses first = ResolveOne(loop, resolver, "moved.example");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(Sorted(first), (std::vector<std::string>{"127.0.0.7:443"}));

  // A query under way on the old servers when the next reload comes still ends, by its
  // deadline; the new servers answer everything after, the cache of the old ones emptied.
  ASSERT_TRUE(resolver.Reconfigure(Settings(silent.address(), 300)).ok());
  bool moved_answered = false;
  std::optional<Addresses> stuck;
  auto stuck_query = resolver.Resolve("stuck.example", 443, [&](Addresses result) {
    stuck.emplace(std::move(result));
    if (moved_answered) loop.Stop();
  });
  ASSERT_TRUE(resolver.Reconfigure(Settings(after.address())).ok());

  Addresses second = ResolveOne(loop, resolver, "moved.example");
  moved_answered = true;
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(Sorted(second), (std::vector<std::string>{"127.0.0.8:443"}));
  EXPECT_EQ(after.Queries("moved.example"), 1u);

  if (!stuck) {
    Timer guard(loop, [&loop] { loop.Stop(); });
    guard.Start(5000);
    loop.Run();
  }
  ASSERT_TRUE(stuck.has_value());
  EXPECT_EQ(stuck->status().code(), ErrorCode::kDnsTimeout) << stuck->status().ToString();
  EXPECT_GE(silent.queries().value(), 1u);
}

}  // namespace
}  // namespace deputy
