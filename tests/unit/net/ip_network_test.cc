#include "net/ip_network.h"

#include <gtest/gtest.h>

namespace deputy {
namespace {

IpAddress Address(const std::string& text) { return IpAddress::Of(*ParseIpLiteral(text, 0)); }

TEST(IpNetworkTest, ContainsExactlyTheAddressesUnderItsPrefix) {
  IpNetwork shared = ParseIpNetwork("100.64.0.0/10").value();
  EXPECT_TRUE(shared.Contains(Address("100.64.0.0")));
  EXPECT_TRUE(shared.Contains(Address("100.127.255.255")));
  EXPECT_FALSE(shared.Contains(Address("100.128.0.0")));
  EXPECT_FALSE(shared.Contains(Address("100.63.255.255")));
  IpNetwork unique_local = ParseIpNetwork("fc00::/7").value();
  EXPECT_TRUE(unique_local.Contains(Address("fd12:3456::1")));
  EXPECT_FALSE(unique_local.Contains(Address("fe00::1")));
}

TEST(IpNetworkTest, FamiliesNeverMatchEachOther) {
  EXPECT_FALSE(ParseIpNetwork("0.0.0.0/0").value().Contains(Address("::1")));
  EXPECT_FALSE(ParseIpNetwork("::/0").value().Contains(Address("127.0.0.1")));
  EXPECT_TRUE(ParseIpNetwork("0.0.0.0/0").value().Contains(Address("8.8.8.8")));
}

TEST(IpNetworkTest, BareAddressIsAHostNetwork) {
  IpNetwork host = ParseIpNetwork("127.0.0.1").value();
  EXPECT_EQ(host.ToString(), "127.0.0.1/32");
  EXPECT_TRUE(host.Contains(Address("127.0.0.1")));
  EXPECT_FALSE(host.Contains(Address("127.0.0.2")));
  EXPECT_EQ(ParseIpNetwork("::1").value().ToString(), "::1/128");
}

TEST(IpNetworkTest, MalformedNetworksAreRefusedWithTheReason) {
  auto message = [](const std::string& text) { return ParseIpNetwork(text).status().message(); };
  EXPECT_EQ(message("10.0.0.1/8"),
            "\"10.0.0.1/8\" is not a network: bits are set beyond the /8 prefix (did you mean "
            "10.0.0.0/8?)");
  EXPECT_EQ(message("10.0.0.0/33"),
            "\"10.0.0.0/33\" is not a network: the prefix length must "
            "be 0-32");
  EXPECT_EQ(message("::/129"), "\"::/129\" is not a network: the prefix length must be 0-128");
  for (const char* bad : {"10.0.0.0/", "10.0.0.0/08", "10.0.0.0/+8", "10.0.0.0/8x", "[::1]/128",
                          "example.org/8", "", "/8", "10.0.0/8"}) {
    EXPECT_FALSE(ParseIpNetwork(bad).ok()) << bad;
    EXPECT_EQ(ParseIpNetwork(bad).status().code(), ErrorCode::kInvalidConfig) << bad;
  }
}

}  // namespace
}  // namespace deputy
