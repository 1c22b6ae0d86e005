#include "net/public_suffix.h"

#include <gtest/gtest.h>

namespace deputy {
namespace {

TEST(PublicSuffixListTest, NamesBelongToTheDomainOneLabelBelowTheirPublicSuffix) {
  PublicSuffixList list;
  EXPECT_EQ(list.RegistrableDomain("example.org"), "example.org");
  EXPECT_EQ(list.RegistrableDomain("a.b.example.org"), "example.org");
  EXPECT_EQ(list.RegistrableDomain("x.example.co.uk"), "example.co.uk");
  // Each user of a shared hosting suffix is a domain of its own.
  EXPECT_EQ(list.RegistrableDomain("alice.github.io"), "alice.github.io");
  EXPECT_NE(list.RegistrableDomain("bob.github.io"), list.RegistrableDomain("alice.github.io"));
  // Unlisted top-level labels count as public suffixes (the list's "*" rule).
  EXPECT_EQ(list.RegistrableDomain("n1.many.example"), "many.example");
}

TEST(PublicSuffixListTest, NamesWithoutARegistrableDomainStandForThemselves) {
  PublicSuffixList list;
  EXPECT_EQ(list.RegistrableDomain("co.uk"), "co.uk");
  EXPECT_EQ(list.RegistrableDomain("org"), "org");
  EXPECT_EQ(list.RegistrableDomain("localhost"), "localhost");
}

}  // namespace
}  // namespace deputy
