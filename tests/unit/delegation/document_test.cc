#include "delegation/document.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace deputy {
namespace {

// Parse reads `body` for an operator who configured no static hosts.
Result<Document> Parse(std::string_view body) {
  return ParseDocument(body, [](const std::string&) { return false; });
}

// Skipped returns the single skip reason of a document with one valid and one invalid entry.
std::string SkipReason(const std::string& bad_entry) {
  Result<Document> doc = Parse("[{\"host\":\"ok.example\",\"port\":1}," + bad_entry + "]");
  if (!doc.ok()) return "error: " + doc.status().message();
  if (doc->skipped.size() != 1) return "skipped " + std::to_string(doc->skipped.size());
  return doc->skipped[0];
}

TEST(ParseDocumentTest, ReadsAllMembers) {
  Result<Document> doc = Parse(R"([
    {"host": "XMPP.Example.com.", "port": 5223, "domain": "Example.COM", "priority": 10,
     "weight": 65535, "future": {"x": [1, 2]}},
    {"host": "backup.example.com", "port": 65535}
  ])");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_EQ(doc->targets.size(), 2u);
  EXPECT_TRUE(doc->skipped.empty());
  const Target& first = doc->targets[0];
  EXPECT_EQ(first.host, "xmpp.example.com");
  EXPECT_EQ(first.port, 5223);
  EXPECT_EQ(first.domain, "example.com");
  EXPECT_EQ(first.priority, 10);
  EXPECT_EQ(first.weight, 65535);
  const Target& second = doc->targets[1];
  EXPECT_EQ(second.host, "backup.example.com");
  EXPECT_EQ(second.domain, "backup.example.com") << "domain defaults to host";
  EXPECT_EQ(second.priority, 0);
  EXPECT_EQ(second.weight, 0);
}

TEST(ParseDocumentTest, IpLiteralHostDefaultsDomainToTheAddress) {
  Result<Document> doc = Parse(R"([
    {"host": "192.0.2.1", "port": 5223, "domain": "example.com"},
    {"host": "[2001:DB8::1]", "port": 5223, "domain": "example.com"},
    {"host": "192.0.2.2", "port": 5223}
  ])");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_EQ(doc->targets.size(), 3u);
  EXPECT_EQ(doc->targets[0].host, "192.0.2.1");
  EXPECT_EQ(doc->targets[1].host, "2001:db8::1") << "brackets dropped, lower case";
  EXPECT_EQ(doc->targets[2].domain, "192.0.2.2") << "verified as an IP address";
  EXPECT_TRUE(doc->skipped.empty());
}

TEST(ParseDocumentTest, EmptyArrayIsValidAndEmpty) {
  Result<Document> doc = Parse(" [ ] ");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_TRUE(doc->targets.empty());
  EXPECT_TRUE(doc->skipped.empty());
}

TEST(ParseDocumentTest, RejectsNonJson) {
  for (const char* body : {"", "not json", "[", "[{\"host\":\"a.b\",\"port\":1}", "[1,]",
                           "[{\"host\":\"a.b\",\"port\":1}] trailing", "[NaN]", "[Infinity]",
                           "[-Infinity]", "[1e400]", "[\"\xff\"]", "[/* c */]"}) {
    Result<Document> doc = Parse(body);
    ASSERT_FALSE(doc.ok()) << body;
    EXPECT_EQ(doc.status().code(), ErrorCode::kBadDocument);
    EXPECT_EQ(doc.status().message().rfind("document is not valid JSON: ", 0), 0u)
        << doc.status().message();
    EXPECT_EQ(doc.status().message().find("json.exception"), std::string::npos);
    EXPECT_LT(doc.status().message().size(), 250u);
  }
}

TEST(ParseDocumentTest, RejectsNonArray) {
  for (const char* body :
       {"{}", R"({"host":"a.example","port":1})", "\"[]\"", "42", "null", "true"}) {
    Result<Document> doc = Parse(body);
    ASSERT_FALSE(doc.ok()) << body;
    EXPECT_EQ(doc.status().code(), ErrorCode::kBadDocument);
    EXPECT_EQ(doc.status().message(), "document is not a JSON array");
  }
}

TEST(ParseDocumentTest, SkipsInvalidPorts) {
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":0})"), "entry 1: port 0 is outside 1-65535");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":65536})"),
            "entry 1: port 65536 is outside 1-65535");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":70000})"),
            "entry 1: port 70000 is outside 1-65535");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":-1})"), "entry 1: port -1 is outside 1-65535");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":5222.5})"),
            "entry 1: port 5222.5 is not an integer");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":5222.0})"),
            "entry 1: port 5222.0 is not an integer");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":5.222e3})"),
            "entry 1: port 5222.0 is not an integer");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":"5222"})"),
            "entry 1: port \"5222\" is not an integer");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":true})"),
            "entry 1: port true is not an integer");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":null})"),
            "entry 1: port null is not an integer");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":[5222]})"),
            "entry 1: port (an array) is not an integer");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":18446744073709551616})"),
            "entry 1: port 1.8446744073709552e+19 is not an integer");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":18446744073709551615})"),
            "entry 1: port 18446744073709551615 is outside 1-65535");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":-9223372036854775808})"),
            "entry 1: port -9223372036854775808 is outside 1-65535");
  EXPECT_EQ(SkipReason(R"({"host":"a.example"})"), "entry 1: port is missing");
}

TEST(ParseDocumentTest, SkipsInvalidHostsAndDomains) {
  EXPECT_EQ(SkipReason(R"({"port":1})"), "entry 1: host is missing");
  EXPECT_EQ(SkipReason(R"({"host":7,"port":1})"), "entry 1: host 7 is not a string");
  EXPECT_EQ(SkipReason(R"({"host":"","port":1})"),
            "entry 1: host \"\" is not a valid domain name: empty name");
  EXPECT_EQ(SkipReason(R"({"host":"b\u00fccher.example","port":1})"),
            "entry 1: host \"b??cher.example\" is not a valid domain name: only letters, digits, "
            "hyphens and dots are allowed");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":1,"domain":"192.0.2.1"})"),
            "entry 1: domain \"192.0.2.1\" is an IP literal, not a domain name");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":1,"domain":null})"),
            "entry 1: domain null is not a string");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":1,"domain":"a..example"})"),
            "entry 1: domain \"a..example\" is not a valid domain name: empty label");
  EXPECT_EQ(SkipReason(R"("a.example:1")"), "entry 1: not an object but \"a.example:1\"");
  EXPECT_EQ(SkipReason(R"([{"host":"a.example","port":1}])"),
            "entry 1: not an object but (an array)");
}

TEST(ParseDocumentTest, SkipsHostsAndDomainsWithInvalidALabels) {
  EXPECT_EQ(SkipReason(R"({"host":"xn--zz-ozz.example","port":1})"),
            "entry 1: host \"xn--zz-ozz.example\" is not a valid domain name: label "
            "\"xn--zz-ozz\" is not an IDNA2008 A-label (string contains a disallowed character)");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":1,"domain":"xn--ab-c.example"})"),
            "entry 1: domain \"xn--ab-c.example\" is not a valid domain name: label "
            "\"xn--ab-c\" is not valid punycode (string contains invalid punycode data)");
  Result<Document> doc =
      Parse(R"([{"host": "XN--BCHER-KVA.example", "port": 1, "domain": "Xn--Mnchen-3ya.de"}])");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_EQ(doc->targets.size(), 1u);
  EXPECT_EQ(doc->targets[0].host, "xn--bcher-kva.example");
  EXPECT_EQ(doc->targets[0].domain, "xn--mnchen-3ya.de");
}

TEST(ParseDocumentTest, SingleLabelHostIsATargetOnlyWhenDnsHostsNamesIt) {
  const std::string body = R"([
    {"host": "Redis", "port": 6379},
    {"host": "localhost.", "port": 6379},
    {"host": "a.example", "port": 1, "domain": "intranet"}
  ])";
  Result<Document> doc =
      ParseDocument(body, [](const std::string& host) { return host == "redis"; });
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_EQ(doc->targets.size(), 2u);
  EXPECT_EQ(doc->targets[0].host, "redis");
  EXPECT_EQ(doc->targets[0].domain, "redis");
  EXPECT_EQ(doc->targets[1].host, "a.example");
  EXPECT_EQ(doc->targets[1].domain, "intranet") << "only where to connect is restricted";
  ASSERT_EQ(doc->skipped.size(), 1u);
  EXPECT_EQ(doc->skipped[0],
            "entry 1: host \"localhost\" is a single label, accepted only when dns.hosts "
            "names it");

  Result<Document> none = Parse(body);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  ASSERT_EQ(none->targets.size(), 1u);
  EXPECT_EQ(none->targets[0].host, "a.example");
  ASSERT_EQ(none->skipped.size(), 2u);
  EXPECT_EQ(none->skipped[0],
            "entry 0: host \"redis\" is a single label, accepted only when dns.hosts names it");
}

TEST(ParseDocumentTest, SkipsInvalidPriorityAndWeight) {
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":1,"priority":65536})"),
            "entry 1: priority 65536 is outside 0-65535");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":1,"weight":-1})"),
            "entry 1: weight -1 is outside 0-65535");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":1,"weight":0.5})"),
            "entry 1: weight 0.5 is not an integer");
  EXPECT_EQ(SkipReason(R"({"host":"a.example","port":1,"priority":"1"})"),
            "entry 1: priority \"1\" is not an integer");
}

TEST(ParseDocumentTest, NoValidEntryIsAnErrorListingReasons) {
  Result<Document> doc = Parse(R"([
    {"host": "a.example", "port": 0}, {"host": "a.example", "port": 70000},
    {"port": 1}, 5, "x"
  ])");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), ErrorCode::kBadDocument);
  EXPECT_EQ(doc.status().message(),
            "document has no valid entry: entry 0: port 0 is outside 1-65535; entry 1: port "
            "70000 is outside 1-65535; entry 2: host is missing; and 2 more");
}

TEST(ParseDocumentTest, EntryCap) {
  auto body_with = [](size_t entries) {
    std::string body = "[";
    for (size_t i = 0; i < entries; ++i) {
      if (i > 0) body += ',';
      body += R"({"host":"h)" + std::to_string(i) + R"(.example","port":5222})";
    }
    return body + "]";
  };
  Result<Document> at_cap = Parse(body_with(kMaxDocumentEntries));
  ASSERT_TRUE(at_cap.ok()) << at_cap.status().ToString();
  EXPECT_EQ(at_cap->targets.size(), kMaxDocumentEntries);

  Result<Document> over = Parse(body_with(kMaxDocumentEntries + 1));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().message(), "document has 65 entries; at most 64 are allowed");

  Result<Document> many = Parse(body_with(1000));
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.status().code(), ErrorCode::kBadDocument);
  EXPECT_EQ(many.status().message(), "document has 1000 entries; at most 64 are allowed");
}

TEST(ParseDocumentTest, DepthLimitRunsBeforeParsing) {
  const std::string deep(100000, '[');
  Result<Document> doc = Parse(deep);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), ErrorCode::kBadDocument);
  EXPECT_EQ(doc.status().message(), "document nests deeper than 32 levels");

  const std::string balanced = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(Parse(balanced).status().message(), "document nests deeper than 32 levels");

  std::string objects;
  for (int i = 0; i < 50000; ++i) objects += "{\"a\":";
  EXPECT_EQ(Parse("[" + objects).status().message(), "document nests deeper than 32 levels");
}

TEST(ParseDocumentTest, DepthLimitBoundary) {
  // The array, the entry and 30 nested arrays in an unknown member: 32 levels.
  const std::string nest30 = std::string(30, '[') + std::string(30, ']');
  Result<Document> at_limit = Parse(R"([{"host":"a.example","port":1,"x":)" + nest30 + "}]");
  ASSERT_TRUE(at_limit.ok()) << at_limit.status().ToString();
  EXPECT_EQ(at_limit->targets.size(), 1u);

  const std::string nest31 = std::string(31, '[') + std::string(31, ']');
  Result<Document> over = Parse(R"([{"host":"a.example","port":1,"x":)" + nest31 + "}]");
  EXPECT_EQ(over.status().message(), "document nests deeper than 32 levels");
}

TEST(ParseDocumentTest, BracketsInsideStringsDoNotCount) {
  const std::string brackets(1000, '[');
  Result<Document> doc = Parse(R"([{"host":"a.example","port":1,"x":"\"\\)" + brackets + R"("}])");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->targets.size(), 1u);
}

Target Make(std::string host, uint16_t priority, uint16_t weight) {
  return Target{std::move(host), 1, "d.example", priority, weight};
}

std::vector<std::string> Hosts(const std::vector<Target>& targets) {
  std::vector<std::string> out;
  for (const Target& t : targets) out.push_back(t.host);
  return out;
}

TEST(OrderTargetsTest, PriorityOrderIsStrict) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<Target> ordered =
        OrderTargets({Make("p20", 20, 100), Make("p5a", 5, 1), Make("p10", 10, 65535),
                      Make("p5b", 5, 50), Make("p0", 0, 0)},
                     rng);
    ASSERT_EQ(ordered.size(), 5u);
    EXPECT_EQ(ordered[0].host, "p0");
    EXPECT_EQ(ordered[1].priority, 5);
    EXPECT_EQ(ordered[2].priority, 5);
    EXPECT_EQ(ordered[3].host, "p10");
    EXPECT_EQ(ordered[4].host, "p20");
  }
}

TEST(OrderTargetsTest, WeightsSplitFirstPlaceProportionally) {
  std::mt19937_64 rng(42);
  constexpr int kTrials = 4000;
  int heavy_first = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    std::vector<Target> ordered = OrderTargets({Make("light", 0, 1), Make("heavy", 0, 3)}, rng);
    ASSERT_EQ(ordered.size(), 2u);
    if (ordered[0].host == "heavy") ++heavy_first;
  }
  const double share = static_cast<double>(heavy_first) / kTrials;
  EXPECT_GE(share, 0.70);
  EXPECT_LE(share, 0.80);
}

TEST(OrderTargetsTest, WeightZeroRarelyFirstAmongWeighted) {
  std::mt19937_64 rng(3);
  int zero_first = 0;
  int zero_seen = 0;
  for (int trial = 0; trial < 4000; ++trial) {
    std::vector<Target> ordered = OrderTargets({Make("zero", 0, 0), Make("one", 0, 1)}, rng);
    ASSERT_EQ(ordered.size(), 2u);
    if (ordered[0].host == "zero") ++zero_first;
    zero_seen += ordered[0].host == "zero" || ordered[1].host == "zero";
  }
  EXPECT_EQ(zero_seen, 4000) << "a weight-0 entry is never dropped";
  EXPECT_LT(zero_first, 60) << "about 1 in 257";
}

TEST(OrderTargetsTest, AllZeroWeightsKeepDocumentOrder) {
  std::mt19937_64 rng(1);
  for (int trial = 0; trial < 50; ++trial) {
    EXPECT_EQ(Hosts(OrderTargets(
                  {Make("a", 1, 0), Make("b", 1, 0), Make("c", 0, 0), Make("d", 1, 0)}, rng)),
              (std::vector<std::string>{"c", "a", "b", "d"}));
  }
}

TEST(OrderTargetsTest, SameSeedSameOrder) {
  std::vector<Target> input;
  for (int i = 0; i < 20; ++i) input.push_back(Make("h" + std::to_string(i), i % 3, i * 7 % 11));
  std::mt19937_64 rng_a(99);
  std::mt19937_64 rng_b(99);
  const std::vector<std::string> a = Hosts(OrderTargets(input, rng_a));
  EXPECT_EQ(a, Hosts(OrderTargets(input, rng_b)));
  EXPECT_EQ(a.size(), input.size());
  std::vector<std::string> sorted_a = a;
  std::vector<std::string> sorted_input = Hosts(input);
  std::sort(sorted_a.begin(), sorted_a.end());
  std::sort(sorted_input.begin(), sorted_input.end());
  EXPECT_EQ(sorted_a, sorted_input) << "a permutation: nothing lost or duplicated";
}

TEST(OrderTargetsTest, EmptyInput) {
  std::mt19937_64 rng(1);
  EXPECT_TRUE(OrderTargets({}, rng).empty());
}

TEST(ParseDocumentTest, EntryRepeatingAKeyIsSkipped) {
  Result<Document> doc = Parse(R"([
    {"host": "a.example.com", "port": 1, "port": 5223},
    {"host": "b.example.com", "port": 5223, "extra": {"x": 1, "x": 2}},
    {"host": "c.example.com", "port": 5223}
  ])");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_EQ(doc->targets.size(), 1u);
  EXPECT_EQ(doc->targets[0].host, "c.example.com");
  ASSERT_EQ(doc->skipped.size(), 2u);
  EXPECT_EQ(doc->skipped[0], "entry 0: repeats a key, so its meaning is ambiguous");
  EXPECT_EQ(doc->skipped[1].rfind("entry 1: ", 0), 0u);
}

TEST(ParseDocumentTest, ScalarElementsKeepEntryNumbersAligned) {
  Result<Document> doc = Parse(R"([1, [2, 3], {"host": "a.example.com", "port": 1, "port": 2},
    {"host": "b.example.com", "port": 5223}])");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_EQ(doc->targets.size(), 1u);
  EXPECT_EQ(doc->targets[0].host, "b.example.com");
  ASSERT_EQ(doc->skipped.size(), 3u);
  EXPECT_EQ(doc->skipped[2], "entry 2: repeats a key, so its meaning is ambiguous");
}

}  // namespace
}  // namespace deputy
