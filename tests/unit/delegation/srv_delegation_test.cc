// SRV records become a delegation the way RFC 2782 and the seed say: each record a target to be
// verified as the delegating domain, "." alone a refusal, nothing an invitation to the next
// source, and records that cannot be used skipped with a reason.
#include "delegation/srv_delegation.h"

#include <gtest/gtest.h>

namespace deputy {
namespace {

DnsAnswer Records(std::vector<SrvRecord> records) {
  DnsAnswer answer;
  answer.kind = DnsAnswer::Kind::kRecords;
  answer.services = std::move(records);
  answer.ttl_s = 120;
  return answer;
}

bool NoStaticHosts(const std::string&) { return false; }

TEST(SrvRecordsTest, XmppAsksForItsDirectTlsRecords) {
  EXPECT_EQ(SrvNameFor("example.org", "xmpp-client"), "_xmpps-client._tcp.example.org");
  EXPECT_EQ(SrvNameFor("example.org", "xmpp-server"), "_xmpps-server._tcp.example.org");
  EXPECT_EQ(SrvNameFor("example.org", "imaps"), "_imaps._tcp.example.org");
}

TEST(SrvRecordsTest, RecordsAreTargetsVerifiedAsTheDelegatingDomain) {
  std::vector<std::string> skipped;
  auto delegation = DelegationFromSrv(
      Records({{10, 60, 5223, "xmpp1.example.com"}, {20, 0, 443, "xmpp2.example.com"}}),
      "_xmpps-client._tcp.example.org", "example.org", NoStaticHosts, &skipped);
  ASSERT_TRUE(delegation.ok()) << delegation.status().ToString();
  const Delegation& d = **delegation;
  EXPECT_EQ(d.kind, Delegation::Kind::kTargets);
  EXPECT_EQ(d.source, DiscoverySource::kSrv);
  EXPECT_EQ(d.ttl_s, 120);
  ASSERT_EQ(d.targets.size(), 2u);
  EXPECT_EQ(d.targets[0].host, "xmpp1.example.com");
  EXPECT_EQ(d.targets[0].port, 5223);
  EXPECT_EQ(d.targets[0].domain, "example.org");
  EXPECT_EQ(d.targets[0].priority, 10);
  EXPECT_EQ(d.targets[0].weight, 60);
  EXPECT_EQ(d.targets[1].domain, "example.org");
  EXPECT_TRUE(skipped.empty());
}

TEST(SrvRecordsTest, TheRootAloneIsARefusalAndNoRecordPassesOn) {
  std::vector<std::string> skipped;
  auto refused = DelegationFromSrv(Records({{0, 0, 0, ""}}), "_imaps._tcp.example.org",
                                   "example.org", NoStaticHosts, &skipped);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ((*refused)->kind, Delegation::Kind::kEmpty);

  for (DnsAnswer::Kind kind : {DnsAnswer::Kind::kNxDomain, DnsAnswer::Kind::kNoData}) {
    DnsAnswer none;
    none.kind = kind;
    auto passed =
        DelegationFromSrv(none, "_imaps._tcp.example.org", "example.org", NoStaticHosts, &skipped);
    ASSERT_TRUE(passed.ok());
    EXPECT_EQ((*passed)->kind, Delegation::Kind::kNotDelegated);
  }
}

TEST(SrvRecordsTest, UnusableRecordsAreSkippedAndNoneLeftIsAnError) {
  std::vector<std::string> skipped;
  auto some = DelegationFromSrv(Records({{0, 0, 0, ""},
                                         {0, 0, 0, "zero.example.com"},
                                         {0, 0, 443, "localhost"},
                                         {0, 0, 443, "bad_name.example.com"},
                                         {0, 0, 443, "good.example.com"}}),
                                "_imaps._tcp.example.org", "example.org", NoStaticHosts, &skipped);
  ASSERT_TRUE(some.ok()) << some.status().ToString();
  ASSERT_EQ((*some)->targets.size(), 1u);
  EXPECT_EQ((*some)->targets[0].host, "good.example.com");
  ASSERT_EQ(skipped.size(), 4u);
  EXPECT_NE(skipped[0].find("\".\" beside other records"), std::string::npos) << skipped[0];
  EXPECT_NE(skipped[1].find("port 0"), std::string::npos) << skipped[1];
  EXPECT_NE(skipped[2].find("single label"), std::string::npos) << skipped[2];

  skipped.clear();
  auto pinned = DelegationFromSrv(
      Records({{0, 0, 443, "localhost"}}), "_imaps._tcp.example.org", "example.org",
      [](const std::string& host) { return host == "localhost"; }, &skipped);
  ASSERT_TRUE(pinned.ok());
  EXPECT_EQ((*pinned)->targets[0].host, "localhost");

  auto none = DelegationFromSrv(Records({{0, 0, 0, "zero.example.com"}}), "_imaps._tcp.example.org",
                                "example.org", NoStaticHosts, &skipped);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), ErrorCode::kDnsError);
  EXPECT_EQ(none.status().message(),
            "the SRV records of _imaps._tcp.example.org have no usable target");
}

}  // namespace
}  // namespace deputy
