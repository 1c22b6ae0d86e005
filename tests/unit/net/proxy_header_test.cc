// PROXY protocol headers, v1 and v2, are read whole or refused with a reason; what follows
// them is never taken.
#include "net/proxy_header.h"

#include <gtest/gtest.h>

namespace deputy {
namespace {

struct Outcome {
  ProxyHeaderParse parse;
  ProxyHeader header;
  size_t consumed = 0;
  Status error;
};

Outcome Parse(std::string_view bytes) {
  Outcome outcome;
  outcome.parse = ParseProxyHeader(bytes, &outcome.header, &outcome.consumed, &outcome.error);
  return outcome;
}

const std::string kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);

std::string V2(uint8_t ver_cmd, uint8_t family, const std::string& body) {
  std::string header = kV2Signature;
  header += static_cast<char>(ver_cmd);
  header += static_cast<char>(family);
  header += static_cast<char>(body.size() >> 8);
  header += static_cast<char>(body.size() & 0xff);
  return header + body;
}

TEST(ProxyHeader, ReadsV1Tcp4AndTcp6AndLeavesTheRest) {
  const std::string line = "PROXY TCP4 192.0.2.7 10.0.0.1 56324 3128\r\n";
  Outcome v4 = Parse(line + "CONNECT example.org:443 HTTP/1.1\r\n");
  ASSERT_EQ(v4.parse, ProxyHeaderParse::kDone) << v4.error.message();
  EXPECT_EQ(v4.consumed, line.size());
  ASSERT_TRUE(v4.header.source);
  EXPECT_EQ(v4.header.source->ToString(), "192.0.2.7:56324");
  Outcome v6 = Parse("PROXY TCP6 2001:db8::7 2001:db8::1 4000 3128\r\n");
  ASSERT_EQ(v6.parse, ProxyHeaderParse::kDone) << v6.error.message();
  EXPECT_EQ(v6.header.source->ToString(), "[2001:db8::7]:4000");
  Outcome unknown = Parse("PROXY UNKNOWN whatever\r\n");
  ASSERT_EQ(unknown.parse, ProxyHeaderParse::kDone);
  EXPECT_FALSE(unknown.header.source);
}

TEST(ProxyHeader, WaitsForAWholeHeaderOfEitherVersion) {
  const std::string line = "PROXY TCP4 192.0.2.7 10.0.0.1 56324 3128\r\n";
  for (size_t n = 0; n < line.size(); ++n) {
    EXPECT_EQ(Parse(line.substr(0, n)).parse, ProxyHeaderParse::kNeedMore) << n;
  }
  const std::string v2 =
      V2(0x21, 0x11, std::string("\xc0\x00\x02\x07\x0a\x00\x00\x01\xdc\x04\x0c\x38", 12));
  for (size_t n = 0; n < v2.size(); ++n) {
    EXPECT_EQ(Parse(v2.substr(0, n)).parse, ProxyHeaderParse::kNeedMore) << n;
  }
}

TEST(ProxyHeader, ReadsV2ProxyAndLocalAndSkipsTlvs) {
  const std::string addresses("\xc0\x00\x02\x07\x0a\x00\x00\x01\xdc\x04\x0c\x38", 12);
  const std::string tlv("\x04\x00\x03\x61\x62\x63", 6);  // PP2_TYPE_NOOP, 3 bytes
  const std::string header = V2(0x21, 0x11, addresses + tlv);
  Outcome v4 = Parse(header + "rest");
  ASSERT_EQ(v4.parse, ProxyHeaderParse::kDone) << v4.error.message();
  EXPECT_EQ(v4.consumed, header.size());
  EXPECT_EQ(v4.header.source->ToString(), "192.0.2.7:56324");

  std::string v6_addresses(36, '\0');
  v6_addresses[0] = '\x20';
  v6_addresses[1] = '\x01';
  v6_addresses[15] = '\x07';
  v6_addresses[32] = '\x0f';
  v6_addresses[33] = '\xa0';
  Outcome v6 = Parse(V2(0x21, 0x21, v6_addresses));
  ASSERT_EQ(v6.parse, ProxyHeaderParse::kDone) << v6.error.message();
  EXPECT_EQ(v6.header.source->ToString(), "[2001::7]:4000");

  Outcome local = Parse(V2(0x20, 0x00, ""));
  ASSERT_EQ(local.parse, ProxyHeaderParse::kDone);
  EXPECT_FALSE(local.header.source);
}

TEST(ProxyHeader, RefusesWhatIsNotAHeader) {
  const std::pair<std::string, std::string> cases[] = {
      {"CONNECT example.org:443 HTTP/1.1\r\n", "missing"},
      {"PROXY TCP4 192.0.2.7 10.0.0.1 56324\r\n", "is not PROXY TCP4|TCP6"},
      {"PROXY TCP4 2001:db8::1 10.0.0.1 1 2\r\n", "not valid for TCP4"},
      {"PROXY TCP4 192.0.2.7 10.0.0.1 065536 2\r\n", "not valid for TCP4"},
      {"PROXY TCP4 192.0.2.7 10.0.0.1 70000 2\r\n", "not valid for TCP4"},
      {"PROXY UDP4 192.0.2.7 10.0.0.1 1 2\r\n", "is not PROXY TCP4|TCP6"},
      {"PROXY " + std::string(120, 'x'), "longer than 107 bytes"},
      {V2(0x11, 0x11, std::string(12, '\0')), "version 1"},
      {V2(0x22, 0x11, std::string(12, '\0')), "command 2"},
      {V2(0x21, 0x11, std::string(8, '\0')), "TCP4 addresses need 12 bytes"},
      {V2(0x21, 0x12, std::string(12, '\0')), "is not TCP"},
      {V2(0x21, 0x31, std::string(216, '\0')), "is not TCP"},
      {V2(0x21, 0x11, std::string(4000, '\0')), "is too long"},
  };
  for (const auto& [bytes, why] : cases) {
    Outcome outcome = Parse(bytes);
    ASSERT_EQ(outcome.parse, ProxyHeaderParse::kError) << why;
    EXPECT_EQ(outcome.error.code(), ErrorCode::kBadRequest);
    EXPECT_NE(outcome.error.message().find(why), std::string::npos) << outcome.error.message();
  }
}

}  // namespace
}  // namespace deputy
