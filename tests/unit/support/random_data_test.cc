#include "support/random_data.h"

#include <gtest/gtest.h>

namespace deputy::test {
namespace {

TEST(RandomData, Sha256KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(RandomData, StreamMatchesOneShot) {
  std::string data = RandomBytes(100000);
  Sha256Stream stream;
  stream.Update(std::string_view(data).substr(0, 12345));
  stream.Update(std::string_view(data).substr(12345));
  EXPECT_EQ(stream.HexDigest(), Sha256Hex(data));
}

TEST(RandomData, BytesAreRandom) {
  std::string a = RandomBytes(64);
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, RandomBytes(64));
}

}  // namespace
}  // namespace deputy::test
