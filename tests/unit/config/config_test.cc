#include "config/config.h"

#include <gtest/gtest.h>

namespace deputy {
namespace {

TEST(SocketAddressTest, Ipv4IsHostColonPort) {
  EXPECT_EQ((SocketAddress{"127.0.0.1", 3128}).ToString(), "127.0.0.1:3128");
  EXPECT_EQ((SocketAddress{"0.0.0.0", 0}).ToString(), "0.0.0.0:0");
}

TEST(SocketAddressTest, Ipv6IsBracketed) {
  EXPECT_EQ((SocketAddress{"::1", 3128}).ToString(), "[::1]:3128");
  EXPECT_EQ((SocketAddress{"2001:db8::5", 65535}).ToString(), "[2001:db8::5]:65535");
}

}  // namespace
}  // namespace deputy
