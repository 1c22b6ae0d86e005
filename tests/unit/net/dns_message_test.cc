// A name server's answer is read for what deputy uses: the records of the CNAME chain from the
// name asked, the least TTL along it, RFC 2308's negative TTL from the SOA, and nothing from a
// message that is malformed, however it is malformed.
#include "net/dns_message.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace deputy {
namespace {

constexpr uint16_t kCname = 5;
constexpr uint16_t kSoa = 6;

// MessageBuilder writes DNS messages byte by byte, names uncompressed unless a test points back.
class MessageBuilder {
 public:
  MessageBuilder(uint16_t rcode, uint16_t answers, uint16_t authority = 0) {
    Put16(0x1234);
    Put16(static_cast<uint16_t>(0x8180 | rcode));  // response, RD, RA
    Put16(1);
    Put16(answers);
    Put16(authority);
    Put16(0);
  }

  MessageBuilder& Question(const std::string& name, uint16_t type) {
    PutName(name);
    Put16(type);
    Put16(1);
    return *this;
  }

  MessageBuilder& Record(const std::string& owner, uint16_t type, uint32_t ttl,
                         const std::vector<uint8_t>& rdata, uint16_t klass = 1) {
    PutName(owner);
    Put16(type);
    Put16(klass);
    Put32(ttl);
    Put16(static_cast<uint16_t>(rdata.size()));
    bytes_.insert(bytes_.end(), rdata.begin(), rdata.end());
    return *this;
  }

  MessageBuilder& A(const std::string& owner, uint32_t ttl, std::vector<uint8_t> address) {
    return Record(owner, 1, ttl, address);
  }

  MessageBuilder& Cname(const std::string& owner, uint32_t ttl, const std::string& target) {
    return Record(owner, kCname, ttl, Name(target));
  }

  MessageBuilder& Srv(const std::string& owner, uint32_t ttl, uint16_t priority, uint16_t weight,
                      uint16_t port, const std::string& target) {
    std::vector<uint8_t> rdata = {
        static_cast<uint8_t>(priority >> 8), static_cast<uint8_t>(priority),
        static_cast<uint8_t>(weight >> 8),   static_cast<uint8_t>(weight),
        static_cast<uint8_t>(port >> 8),     static_cast<uint8_t>(port)};
    std::vector<uint8_t> name = Name(target);
    rdata.insert(rdata.end(), name.begin(), name.end());
    return Record(owner, 33, ttl, rdata);
  }

  MessageBuilder& Soa(const std::string& zone, uint32_t ttl, uint32_t minimum) {
    std::vector<uint8_t> rdata = Name("ns." + zone);
    std::vector<uint8_t> rname = Name("hostmaster." + zone);
    rdata.insert(rdata.end(), rname.begin(), rname.end());
    for (uint32_t field : {1u, 3600u, 600u, 86400u, minimum}) {
      for (int shift = 24; shift >= 0; shift -= 8)
        rdata.push_back(static_cast<uint8_t>(field >> shift));
    }
    return Record(zone, kSoa, ttl, rdata);
  }

  const std::vector<uint8_t>& bytes() const { return bytes_; }

  static std::vector<uint8_t> Name(const std::string& name) {
    std::vector<uint8_t> out;
    size_t start = 0;
    while (start < name.size()) {
      size_t dot = name.find('.', start);
      if (dot == std::string::npos) dot = name.size();
      out.push_back(static_cast<uint8_t>(dot - start));
      out.insert(out.end(), name.begin() + static_cast<long>(start),
                 name.begin() + static_cast<long>(dot));
      start = dot + 1;
    }
    out.push_back(0);
    return out;
  }

 private:
  void PutName(const std::string& name) {
    std::vector<uint8_t> encoded = Name(name);
    bytes_.insert(bytes_.end(), encoded.begin(), encoded.end());
  }
  void Put16(uint16_t value) {
    bytes_.push_back(static_cast<uint8_t>(value >> 8));
    bytes_.push_back(static_cast<uint8_t>(value));
  }
  void Put32(uint32_t value) {
    Put16(static_cast<uint16_t>(value >> 16));
    Put16(static_cast<uint16_t>(value));
  }

  std::vector<uint8_t> bytes_;
};

std::optional<DnsAnswer> Parse(const MessageBuilder& message, const std::string& name,
                               DnsType type) {
  return ParseDnsResponse(message.bytes().data(), message.bytes().size(), name, type);
}

std::vector<std::string> Addresses(const DnsAnswer& answer) {
  std::vector<std::string> out;
  for (const IpEndpoint& endpoint : answer.addresses) out.push_back(endpoint.ToString());
  return out;
}

TEST(DnsMessageTest, AddressRecordsComeWithTheLeastTtl) {
  MessageBuilder message(0, 2);
  message.Question("xmpp.example", 1)
      .A("xmpp.example", 300, {127, 0, 0, 7})
      .A("XMPP.Example", 60, {127, 0, 0, 8});
  std::optional<DnsAnswer> answer = Parse(message, "xmpp.example", DnsType::kA);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->kind, DnsAnswer::Kind::kRecords);
  EXPECT_EQ(Addresses(*answer), (std::vector<std::string>{"127.0.0.7:0", "127.0.0.8:0"}));
  EXPECT_EQ(answer->ttl_s, 60u);
}

TEST(DnsMessageTest, AaaaRecordsAreSixteenBytes) {
  std::vector<uint8_t> loopback(16, 0);
  loopback[15] = 1;
  MessageBuilder message(0, 1);
  message.Question("v6.example", 28).Record("v6.example", 28, 30, loopback);
  std::optional<DnsAnswer> answer = Parse(message, "v6.example", DnsType::kAaaa);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(Addresses(*answer), (std::vector<std::string>{"[::1]:0"}));

  MessageBuilder short_record(0, 1);
  short_record.Question("v6.example", 28).Record("v6.example", 28, 30, {0, 0, 0, 1});
  EXPECT_FALSE(Parse(short_record, "v6.example", DnsType::kAaaa).has_value());
}

TEST(DnsMessageTest, ACnameChainIsFollowedAndItsLinksBoundTheTtl) {
  MessageBuilder message(0, 4);
  message.Question("www.example", 1)
      .Cname("www.example", 20, "edge.example")
      .Cname("edge.example", 600, "node.cdn.example")
      .A("node.cdn.example", 300, {127, 0, 0, 9})
      .A("unrelated.example", 1, {127, 0, 0, 10});  // not on the chain: ignored
  std::optional<DnsAnswer> answer = Parse(message, "www.example", DnsType::kA);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(Addresses(*answer), (std::vector<std::string>{"127.0.0.9:0"}));
  EXPECT_EQ(answer->ttl_s, 20u);
}

TEST(DnsMessageTest, ACnameLoopIsMalformed) {
  MessageBuilder message(0, 2);
  message.Question("a.example", 1)
      .Cname("a.example", 60, "b.example")
      .Cname("b.example", 60, "a.example");
  EXPECT_FALSE(Parse(message, "a.example", DnsType::kA).has_value());
}

TEST(DnsMessageTest, NxDomainIsKeptForTheLeastOfSoaTtlAndMinimum) {
  MessageBuilder message(3, 0, 1);
  message.Question("gone.example", 1).Soa("example", 3600, 45);
  std::optional<DnsAnswer> answer = Parse(message, "gone.example", DnsType::kA);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->kind, DnsAnswer::Kind::kNxDomain);
  EXPECT_EQ(answer->ttl_s, 45u);

  MessageBuilder low_ttl(3, 0, 1);
  low_ttl.Question("gone.example", 1).Soa("example", 10, 900);
  EXPECT_EQ(Parse(low_ttl, "gone.example", DnsType::kA)->ttl_s, 10u);
}

TEST(DnsMessageTest, ANegativeAnswerWithoutSoaHasNoTtl) {
  MessageBuilder nodata(0, 0);
  nodata.Question("v4only.example", 28);
  std::optional<DnsAnswer> answer = Parse(nodata, "v4only.example", DnsType::kAaaa);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->kind, DnsAnswer::Kind::kNoData);
  EXPECT_FALSE(answer->ttl_s.has_value());

  // Records of another type are no answer to this one.
  MessageBuilder other_type(0, 1, 1);
  other_type.Question("v4only.example", 28)
      .Cname("v4only.example", 5, "real.example")
      .Soa("example", 600, 120);
  answer = Parse(other_type, "v4only.example", DnsType::kAaaa);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->kind, DnsAnswer::Kind::kNoData);
  EXPECT_EQ(answer->ttl_s, 5u);  // the CNAME's TTL bounds the negative answer it led to
}

TEST(DnsMessageTest, ATtlWithTheTopBitSetIsZero) {
  MessageBuilder message(0, 1);
  message.Question("xmpp.example", 1).A("xmpp.example", 0x80000000u, {127, 0, 0, 7});
  EXPECT_EQ(Parse(message, "xmpp.example", DnsType::kA)->ttl_s, 0u);
}

TEST(DnsMessageTest, SrvRecordsKeepPriorityWeightPortAndTarget) {
  MessageBuilder message(0, 2);
  message.Question("_xmpps-client._tcp.example.org", 33)
      .Srv("_xmpps-client._tcp.example.org", 120, 10, 60, 5223, "Xmpp1.Example.COM")
      .Srv("_xmpps-client._tcp.example.org", 90, 20, 0, 443, "xmpp2.example.com");
  std::optional<DnsAnswer> answer = Parse(message, "_xmpps-client._tcp.example.org", DnsType::kSrv);
  ASSERT_TRUE(answer.has_value());
  ASSERT_EQ(answer->services.size(), 2u);
  EXPECT_EQ(answer->services[0].priority, 10);
  EXPECT_EQ(answer->services[0].weight, 60);
  EXPECT_EQ(answer->services[0].port, 5223);
  EXPECT_EQ(answer->services[0].target, "xmpp1.example.com");
  EXPECT_EQ(answer->services[1].target, "xmpp2.example.com");
  EXPECT_EQ(answer->ttl_s, 90u);
}

TEST(DnsMessageTest, AnSrvTargetOfTheRootIsEmpty) {
  MessageBuilder message(0, 1);
  message.Question("_xmpp-client._tcp.example.org", 33)
      .Srv("_xmpp-client._tcp.example.org", 60, 0, 0, 0, "");
  std::optional<DnsAnswer> answer = Parse(message, "_xmpp-client._tcp.example.org", DnsType::kSrv);
  ASSERT_TRUE(answer.has_value());
  ASSERT_EQ(answer->services.size(), 1u);
  EXPECT_EQ(answer->services[0].target, "");
}

TEST(DnsMessageTest, EveryTruncationOfAValidMessageIsMalformed) {
  MessageBuilder message(0, 2);
  message.Question("www.example", 1)
      .Cname("www.example", 20, "node.example")
      .A("node.example", 300, {127, 0, 0, 9});
  ASSERT_TRUE(Parse(message, "www.example", DnsType::kA).has_value());
  const std::vector<uint8_t>& bytes = message.bytes();
  for (size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_FALSE(ParseDnsResponse(bytes.data(), length, "www.example", DnsType::kA).has_value())
        << "cut at " << length << " of " << bytes.size();
  }
}

TEST(DnsMessageTest, OtherResponseCodesAreNotAnswers) {
  for (uint16_t rcode : {1, 2, 4, 5}) {  // FORMERR, SERVFAIL, NOTIMP, REFUSED
    MessageBuilder message(rcode, 0);
    message.Question("xmpp.example", 1);
    EXPECT_FALSE(Parse(message, "xmpp.example", DnsType::kA).has_value()) << rcode;
  }
}

TEST(DnsMessageTest, RecordsOfAnotherClassAreIgnored) {
  MessageBuilder message(0, 1);
  message.Question("xmpp.example", 1).Record("xmpp.example", 1, 60, {127, 0, 0, 7}, 3);
  std::optional<DnsAnswer> answer = Parse(message, "xmpp.example", DnsType::kA);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->kind, DnsAnswer::Kind::kNoData);
}

}  // namespace
}  // namespace deputy
