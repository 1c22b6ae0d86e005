#include "net/destination_guard.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace deputy {
namespace {

IpEndpoint At(const std::string& address) { return *ParseIpLiteral(address, 443); }

std::vector<IpNetwork> Networks(std::vector<std::string> texts) {
  std::vector<IpNetwork> out;
  for (const std::string& text : texts) out.push_back(ParseIpNetwork(text).value());
  return out;
}

// Addresses at the ends of, or inside, every range the guard prohibits by default.
// clang-format off
const std::vector<std::string> kProhibited = {
    "0.0.0.0", "0.255.255.255", "10.0.0.0", "10.255.255.255", "100.64.0.0", "100.127.255.255",
    "127.0.0.1", "127.255.255.254", "169.254.169.254", "172.16.0.0", "172.31.255.255",
    "192.0.0.1", "192.0.2.1", "192.88.99.1", "192.168.0.1", "192.168.255.255", "198.18.0.0",
    "198.19.255.255", "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.255", "240.0.0.1",
    "255.255.255.255",
    "::", "::1", "::127.0.0.1", "fc00::1", "fdff:ffff::1", "fe80::1", "febf::1", "fec0::1",
    "ff02::1", "2001:db8::1", "::ffff:8.8.8.8", "64:ff9b::808:808", "64:ff9b:1::a00:1",
    "2002:808:808::1", "2001:0:808:808::1", "2001:2::1", "2001:10::1", "3fff::1", "100::1",
    "5f00::1", "::ffff:0:a00:1", "4000::1", "e000::1"};

const std::vector<std::string> kPublic = {
    "1.1.1.1", "8.8.8.8", "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0",
    "192.0.1.1", "198.17.255.255", "198.20.0.0", "223.255.255.255",
    "2606:4700::1111", "2001:4860::8888", "2001:db9::1", "2001:200::1", "2a00:1450::1"};
// clang-format on

TEST(DestinationGuardTest, ProhibitsEverySpecialPurposeRangeByDefault) {
  DestinationGuard guard({}, {});
  for (const std::string& address : kProhibited) {
    EXPECT_TRUE(guard.Prohibits(At(address)).has_value()) << address;
  }
  for (const std::string& address : kPublic) {
    EXPECT_EQ(guard.Prohibits(At(address)), std::nullopt) << address;
  }
}

TEST(DestinationGuardTest, ReasonNamesTheRange) {
  DestinationGuard guard({}, {});
  EXPECT_EQ(guard.Prohibits(At("169.254.169.254")), "link-local (cloud metadata) 169.254.0.0/16");
  EXPECT_EQ(guard.Prohibits(At("::1")), "loopback ::1/128");
  EXPECT_EQ(guard.Prohibits(At("10.1.2.3")), "private-use 10.0.0.0/8");
}

TEST(DestinationGuardTest, AllowedNetworksExemptOnlyTheirOwnAddresses) {
  DestinationGuard guard(Networks({"127.0.0.0/8", "10.1.0.0/16"}), {});
  EXPECT_EQ(guard.Prohibits(At("127.0.0.1")), std::nullopt);
  EXPECT_EQ(guard.Prohibits(At("10.1.2.3")), std::nullopt);
  EXPECT_TRUE(guard.Prohibits(At("10.2.0.1")).has_value());
  EXPECT_TRUE(guard.Prohibits(At("::1")).has_value()) << "an IPv4 exemption covers no IPv6";
}

TEST(DestinationGuardTest, Ipv6FormsCarryingIpv4AreJudgedByTheCarriedAddressToo) {
  // Even with the IPv6 transition ranges themselves allowed, what they carry must pass too.
  DestinationGuard guard(Networks({"::ffff:0:0/96", "64:ff9b::/96", "2002::/16", "2001::/32"}), {});
  EXPECT_EQ(guard.Prohibits(At("::ffff:127.0.0.1")), "carries 127.0.0.1, loopback 127.0.0.0/8");
  EXPECT_EQ(guard.Prohibits(At("64:ff9b::a9fe:a9fe")),
            "carries 169.254.169.254, link-local (cloud metadata) 169.254.0.0/16");
  EXPECT_EQ(guard.Prohibits(At("2002:0a00:0001::1")), "carries 10.0.0.1, private-use 10.0.0.0/8");
  // Teredo stores the server's address plain (first: 10.0.0.1) and the client's inverted
  // (second: ~127.0.0.1 behind the public server 8.8.8.8).
  EXPECT_EQ(guard.Prohibits(At("2001:0:0a00:1::1")), "carries 10.0.0.1, private-use 10.0.0.0/8");
  EXPECT_EQ(guard.Prohibits(At("2001:0:808:808::80ff:fffe")),
            "carries 127.0.0.1, loopback 127.0.0.0/8");
  EXPECT_EQ(guard.Prohibits(At("::ffff:8.8.8.8")), std::nullopt);
}

TEST(DestinationGuardTest, BroadIpv6AllowanceStillJudgesTheIpv4ItCarries) {
  DestinationGuard guard(Networks({"::/0"}), {});
  EXPECT_EQ(guard.Prohibits(At("::10.0.0.1")), "carries 10.0.0.1, private-use 10.0.0.0/8");
  EXPECT_EQ(guard.Prohibits(At("::169.254.169.254")),
            "carries 169.254.169.254, link-local (cloud metadata) 169.254.0.0/16");
  EXPECT_EQ(guard.Prohibits(At("::ffff:192.168.1.1")),
            "carries 192.168.1.1, private-use 192.168.0.0/16");
  EXPECT_EQ(guard.Prohibits(At("fd00::1")), std::nullopt) << "allowed, and carries nothing";
}

TEST(DestinationGuardTest, Ipv6LoopbackAllowedIsNotMistakenForAnIpv4CompatibleAddress) {
  // ::1 lies in ::/96 but is the loopback address, not 0.0.0.1 (RFC 4291 section 2.5.5.1).
  DestinationGuard guard(Networks({"::1"}), {});
  EXPECT_EQ(guard.Prohibits(At("::1")), std::nullopt);
  EXPECT_TRUE(guard.Prohibits(At("::")).has_value());
  EXPECT_EQ(guard.Prohibits(At("::2")), "IPv4-compatible (deprecated) ::/96");
}

TEST(DestinationGuardTest, LoopbackAllowedStillProhibitsItsIpv4MappedForm) {
  DestinationGuard guard(Networks({"127.0.0.0/8"}), {});
  EXPECT_EQ(guard.Prohibits(At("::ffff:127.0.0.1")), "IPv4-mapped ::ffff:0.0.0.0/96");
}

TEST(DestinationGuardTest, DeniedNetworksWinOverAllowedAndCoverPublicAddresses) {
  DestinationGuard guard(Networks({"127.0.0.0/8", "::ffff:0:0/96"}),
                         Networks({"8.8.8.0/24", "127.0.0.2"}));
  EXPECT_EQ(guard.Prohibits(At("8.8.8.8")), "in policy.denied_networks 8.8.8.0/24");
  EXPECT_EQ(guard.Prohibits(At("127.0.0.2")), "in policy.denied_networks 127.0.0.2/32");
  EXPECT_EQ(guard.Prohibits(At("127.0.0.1")), std::nullopt);
  EXPECT_EQ(guard.Prohibits(At("::ffff:8.8.8.8")),
            "carries 8.8.8.8, in policy.denied_networks 8.8.8.0/24");
}

}  // namespace
}  // namespace deputy
