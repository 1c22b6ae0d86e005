// How long the resolver keeps what real name servers said: records for their TTL and no longer;
// NXDOMAIN and NODATA for the SOA's negative TTL (unbound sends it, RFC 2308) within
// dns.max_negative_ttl_s; a negative answer without an SOA (dnsmasq's) not at all.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "loop/event_loop.h"
#include "loop/timer.h"
#include "net/dns_resolver.h"
#include "support/dnsmasq_server.h"
#include "support/temp_dir.h"
#include "support/unbound_server.h"

namespace deputy {
namespace {

using Addresses = Result<std::vector<IpEndpoint>>;

DnsSettings Settings(const std::string& server) {
  DnsSettings settings;
  settings.servers = {*ParseIpLiteral(server, 53)};
  settings.timeout_ms = 2000;
  return settings;
}

Addresses ResolveOne(EventLoop& loop, DnsResolver& resolver, const std::string& host) {
  std::optional<Addresses> answer;
  Timer guard(loop, [&loop] { loop.Stop(); });
  guard.Start(10000);
  auto query = resolver.Resolve(host, 443, [&](Addresses result) {
    answer.emplace(std::move(result));
    loop.Stop();
  });
  loop.Run();
  if (!answer) return Status(ErrorCode::kInternal, "no answer within 10 s");
  return std::move(*answer);
}

// Elapse turns the loop for `ms`: a TTL is time, and only time passing can end it.
void Elapse(EventLoop& loop, uint64_t ms) {
  Timer done(loop, [&loop] { loop.Stop(); });
  done.Start(ms);
  loop.Run();
}

const std::vector<std::string> kNegativeZone = {
    "local-zone: \"neg.example.\" static",
    "local-data: \"neg.example. 3600 IN SOA ns.neg.example. hostmaster.neg.example. 1 3600 600 "
    "86400 45\"",
    "local-data: \"v4.neg.example. 300 IN A 127.0.0.7\"",
};

TEST(DnsAnswerLifetimeTest, AnAnswerIsAskedAgainOnceItsTtlHasPassed) {
  test::TempDir dir;
  test::DnsmasqServer dns(dir, "", {"--host-record=short.example,127.0.0.7,1"});
  ASSERT_TRUE(dns.valid()) << dns.error();
  EventLoop loop;
  DnsResolver resolver(loop, Settings(dns.address()));

  ASSERT_TRUE(ResolveOne(loop, resolver, "short.example").ok());
  ASSERT_TRUE(ResolveOne(loop, resolver, "short.example").ok());
  EXPECT_EQ(dns.Queries("short.example"), 1u);
  Elapse(loop, 1100);
  ASSERT_TRUE(ResolveOne(loop, resolver, "short.example").ok());
  EXPECT_EQ(dns.Queries("short.example"), 2u);
}

TEST(DnsAnswerLifetimeTest, NxDomainAndNoDataAreKeptForTheSoaNegativeTtl) {
  test::TempDir dir;
  test::UnboundServer dns(dir, kNegativeZone);
  ASSERT_TRUE(dns.valid()) << dns.error();
  EventLoop loop;
  DnsResolver resolver(loop, Settings(dns.address()));

  for (int round = 0; round < 3; ++round) {
    Addresses gone = ResolveOne(loop, resolver, "gone.neg.example");
    ASSERT_FALSE(gone.ok());
    EXPECT_EQ(gone.status().message(), "gone.neg.example does not exist (NXDOMAIN)");
    Addresses v4 = ResolveOne(loop, resolver, "v4.neg.example");
    ASSERT_TRUE(v4.ok()) << v4.status().ToString();
  }
  EXPECT_EQ(dns.Queries("gone.neg.example", "A"), 1u);
  EXPECT_EQ(dns.Queries("gone.neg.example", "AAAA"), 1u);
  EXPECT_EQ(dns.Queries("v4.neg.example", "AAAA"), 1u);  // NODATA, kept like NXDOMAIN
  EXPECT_EQ(resolver.cached(), 4u);
}

TEST(DnsAnswerLifetimeTest, ANegativeAnswerIsKeptNoLongerThanMaxNegativeTtl) {
  test::TempDir dir;
  test::UnboundServer dns(dir, kNegativeZone);
  ASSERT_TRUE(dns.valid()) << dns.error();
  EventLoop loop;
  DnsSettings settings = Settings(dns.address());
  settings.cache.max_negative_ttl_s = 1;
  DnsResolver resolver(loop, settings);

  ASSERT_FALSE(ResolveOne(loop, resolver, "gone.neg.example").ok());
  ASSERT_FALSE(ResolveOne(loop, resolver, "gone.neg.example").ok());
  EXPECT_EQ(dns.Queries("gone.neg.example", "A"), 1u);
  Elapse(loop, 1100);
  ASSERT_FALSE(ResolveOne(loop, resolver, "gone.neg.example").ok());
  EXPECT_EQ(dns.Queries("gone.neg.example", "A"), 2u);
}

TEST(DnsAnswerLifetimeTest, ANegativeAnswerWithoutAnSoaIsNotKept) {
  test::TempDir dir;
  test::DnsmasqServer dns(dir, "", {"--local=/example/"});  // NXDOMAIN, never with an SOA
  ASSERT_TRUE(dns.valid()) << dns.error();
  EventLoop loop;
  DnsResolver resolver(loop, Settings(dns.address()));

  ASSERT_FALSE(ResolveOne(loop, resolver, "gone.example").ok());
  ASSERT_FALSE(ResolveOne(loop, resolver, "gone.example").ok());
  EXPECT_EQ(dns.Queries("gone.example"), 2u);
  EXPECT_EQ(resolver.cached(), 0u);
}

}  // namespace
}  // namespace deputy
