// Hostile text reaches logs, Proxy-Status details and terminals only in printable form.
#include "base/untrusted_text.h"

#include <gtest/gtest.h>

#include "net/address.h"

namespace deputy {
namespace {

TEST(PrintableTest, ShowsControlAndNonAsciiBytesAsQuestionMarks) {
  EXPECT_EQ(Printable("a\x1b[2Jb\r\n\xc3\xa9\x7f"), "a?[2Jb?????");
}

TEST(PrintableTest, KeepsNewlinesOnlyWhenAsked) {
  EXPECT_EQ(Printable("one\ntwo\r\n", {.keep_newlines = true}), "one\ntwo?\n");
}

TEST(PrintableTest, CutsLongTextAndSaysSo) {
  EXPECT_EQ(Printable("abcdef", {.max_length = 3}), "abc...");
  EXPECT_EQ(Printable("abc", {.max_length = 3}), "abc");
}

TEST(QuoteUntrustedTest, QuotesAndMasksQuotesAndBackslashes) {
  EXPECT_EQ(QuoteUntrusted("say \"hi\"\\"), "\"say ?hi??\"");
  EXPECT_EQ(QuoteUntrusted(std::string(100, 'x')), "\"" + std::string(80, 'x') + "...\"");
}

// One parser decides what an IP literal is, for the resolver and for name checks alike.
TEST(IpLiteralTest, BracketsEncloseOnlyIpv6) {
  EXPECT_TRUE(IsIpLiteral("[::1]"));
  EXPECT_TRUE(IsIpLiteral("::1"));
  EXPECT_TRUE(IsIpLiteral("1.2.3.4"));
  EXPECT_FALSE(IsIpLiteral("[1.2.3.4]"));
  EXPECT_FALSE(ParseIpLiteral("[1.2.3.4]", 80).has_value());
  EXPECT_FALSE(IsIpLiteral("[]"));
  EXPECT_FALSE(IsIpLiteral(""));
}

}  // namespace
}  // namespace deputy
