// The DNS cache keeps an answer for its TTL within the configured bounds, a negative one only
// when an SOA timed it, and never more entries than allowed, dropping the least recently used.
#include "net/dns_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace deputy {
namespace {

DnsAnswer Records(uint32_t ttl_s) {
  DnsAnswer answer;
  answer.kind = DnsAnswer::Kind::kRecords;
  answer.addresses.push_back(*ParseIpLiteral("127.0.0.7", 0));
  answer.ttl_s = ttl_s;
  return answer;
}

DnsAnswer Negative(DnsAnswer::Kind kind, std::optional<uint32_t> ttl_s) {
  DnsAnswer answer;
  answer.kind = kind;
  answer.ttl_s = ttl_s;
  return answer;
}

TEST(DnsCacheTest, AnAnswerIsKeptForItsTtlAndNoLonger) {
  DnsCache cache(DnsCacheLimits{});
  ASSERT_TRUE(cache.Store("xmpp.example", DnsType::kA, Records(60), 1000));
  EXPECT_NE(cache.Find("xmpp.example", DnsType::kA, 60999), nullptr);
  EXPECT_EQ(cache.Find("xmpp.example", DnsType::kAaaa, 2000), nullptr);
  EXPECT_EQ(cache.Find("xmpp.example", DnsType::kA, 61000), nullptr);
  EXPECT_EQ(cache.size(), 0u);  // the expired entry went when it was found stale
}

TEST(DnsCacheTest, TtlsAreClampedToTheConfiguredBounds) {
  DnsCache cache(DnsCacheLimits{.min_ttl_s = 5, .max_ttl_s = 120, .max_negative_ttl_s = 20});
  EXPECT_EQ(cache.KeptForS(Records(0)), 5u);
  EXPECT_EQ(cache.KeptForS(Records(60)), 60u);
  EXPECT_EQ(cache.KeptForS(Records(86400)), 120u);
  EXPECT_EQ(cache.KeptForS(Negative(DnsAnswer::Kind::kNxDomain, 3600)), 20u);
  EXPECT_EQ(cache.KeptForS(Negative(DnsAnswer::Kind::kNoData, 1)), 5u);
}

TEST(DnsCacheTest, ATtlOfZeroIsNotKeptUnlessAMinimumIsSet) {
  DnsCache cache(DnsCacheLimits{});
  EXPECT_FALSE(cache.Store("xmpp.example", DnsType::kA, Records(0), 1000));
  EXPECT_EQ(cache.size(), 0u);
  cache.SetLimits(DnsCacheLimits{.min_ttl_s = 2});
  EXPECT_TRUE(cache.Store("xmpp.example", DnsType::kA, Records(0), 1000));
  EXPECT_NE(cache.Find("xmpp.example", DnsType::kA, 2999), nullptr);
}

TEST(DnsCacheTest, ANegativeAnswerIsKeptOnlyWhenAnSoaTimedIt) {
  DnsCache cache(DnsCacheLimits{});
  EXPECT_FALSE(cache.Store("gone.example", DnsType::kA,
                           Negative(DnsAnswer::Kind::kNxDomain, std::nullopt), 0));
  EXPECT_TRUE(
      cache.Store("gone.example", DnsType::kAaaa, Negative(DnsAnswer::Kind::kNxDomain, 600), 0));
  const DnsCache::Entry* entry = cache.Find("gone.example", DnsType::kAaaa, 0);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->answer.kind, DnsAnswer::Kind::kNxDomain);
  EXPECT_EQ(entry->expires_ms, 30000u);  // max_negative_ttl_s, not the SOA's 600
}

TEST(DnsCacheTest, TheLeastRecentlyUsedEntryGoesFirst) {
  DnsCache cache(DnsCacheLimits{.max_entries = 2});
  cache.Store("a.example", DnsType::kA, Records(60), 0);
  cache.Store("b.example", DnsType::kA, Records(60), 0);
  ASSERT_NE(cache.Find("a.example", DnsType::kA, 1), nullptr);  // a is now the most recent
  cache.Store("c.example", DnsType::kA, Records(60), 2);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_NE(cache.Find("a.example", DnsType::kA, 3), nullptr);
  EXPECT_EQ(cache.Find("b.example", DnsType::kA, 3), nullptr);
  EXPECT_NE(cache.Find("c.example", DnsType::kA, 3), nullptr);
}

TEST(DnsCacheTest, LoweringTheBoundEvictsAndZeroKeepsNothing) {
  DnsCache cache(DnsCacheLimits{});
  for (int i = 0; i < 10; ++i) {
    cache.Store("n" + std::to_string(i) + ".example", DnsType::kA, Records(60), 0);
  }
  cache.SetLimits(DnsCacheLimits{.max_entries = 3});
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_NE(cache.Find("n9.example", DnsType::kA, 1), nullptr);
  cache.SetLimits(DnsCacheLimits{.max_entries = 0});
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.Store("n0.example", DnsType::kA, Records(60), 0));
}

TEST(DnsCacheTest, AFreshAnswerReplacesTheOldOne) {
  DnsCache cache(DnsCacheLimits{});
  cache.Store("xmpp.example", DnsType::kA, Records(60), 0);
  DnsAnswer newer = Records(10);
  newer.addresses = {*ParseIpLiteral("127.0.0.8", 0)};
  cache.Store("xmpp.example", DnsType::kA, newer, 5000);
  const DnsCache::Entry* entry = cache.Find("xmpp.example", DnsType::kA, 5000);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->answer.addresses[0].ToString(), "127.0.0.8:0");
  EXPECT_EQ(entry->expires_ms, 15000u);
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace deputy
