#include "net/names.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace deputy {
namespace {

TEST(ServiceNameTest, AcceptsRfc6335Names) {
  for (const char* name : {"xmpp-client", "imap", "x", "a1", "1a", "xmpp-server", "a-b-c",
                           "abcdefghijklmno", "IMAPS"}) {
    EXPECT_TRUE(IsValidServiceName(name)) << name;
  }
}

TEST(ServiceNameTest, RejectsBadNames) {
  for (const char* name : {"", "-xmpp", "xmpp-", "xmpp--client", "12345", "1-2", "abcdefghijklmnop",
                           "xmpp_client", "xmpp.client", "xmpp client", "x\xc3\xa9"}) {
    EXPECT_FALSE(IsValidServiceName(name)) << name;
  }
}

TEST(NormalizeDomainTest, LowerCasesAndStripsOneTrailingDot) {
  EXPECT_EQ(*NormalizeDomain("Example.ORG"), "example.org");
  EXPECT_EQ(*NormalizeDomain("example.org."), "example.org");
  EXPECT_EQ(*NormalizeDomain("localhost"), "localhost");
  EXPECT_EQ(*NormalizeDomain("xn--bcher-kva.example"), "xn--bcher-kva.example");
  EXPECT_EQ(*NormalizeDomain("1.2.3.example"), "1.2.3.example");
  EXPECT_EQ(*NormalizeDomain("a-b.c9"), "a-b.c9");
  EXPECT_FALSE(NormalizeDomain("example.org..").ok());
  EXPECT_FALSE(NormalizeDomain(".").ok());
  EXPECT_FALSE(NormalizeDomain("").ok());
}

TEST(NormalizeDomainTest, EnforcesLengthLimits) {
  const std::string label63(63, 'a');
  EXPECT_TRUE(NormalizeDomain(label63 + ".org").ok());
  EXPECT_FALSE(NormalizeDomain(label63 + "a.org").ok());

  // 4 labels of 63 plus 3 dots = 255; trim to exactly 253 and 254.
  std::string name = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  ASSERT_EQ(name.size(), 253u);
  EXPECT_TRUE(NormalizeDomain(name).ok());
  EXPECT_TRUE(NormalizeDomain(name + ".").ok()) << "the trailing dot does not count";
  EXPECT_FALSE(NormalizeDomain(name + "b").ok());
}

TEST(NormalizeDomainTest, RejectsBadLabels) {
  for (const char* name : {"-example.org", "example-.org", "exa mple.org", "exa_mple.org",
                           "example..org", ".example.org", "example.123", "42",
                           "b\xc3\xbc"
                           "cher.example",
                           "example.org/", "example.org:443", "[example.org]"}) {
    Result<std::string> result = NormalizeDomain(name);
    ASSERT_FALSE(result.ok()) << name;
    EXPECT_EQ(result.status().code(), ErrorCode::kBadRequest);
    EXPECT_NE(result.status().message().find("is not a valid domain name"), std::string::npos)
        << result.status().message();
  }
}

TEST(NormalizeDomainTest, RejectsIpLiteralsSayingSo) {
  for (const char* name : {"127.0.0.1", "::1", "[::1]", "2001:db8::1", "[2001:DB8::1]"}) {
    Result<std::string> result = NormalizeDomain(name);
    ASSERT_FALSE(result.ok()) << name;
    EXPECT_EQ(result.status().code(), ErrorCode::kBadRequest);
    EXPECT_EQ(result.status().message(),
              "\"" + std::string(name) + "\" is an IP literal, not a domain name");
  }
}

TEST(NormalizeDomainTest, QuotesHostileInputBoundedAndPrintable) {
  const std::string hostile = std::string(500, 'x') + "\n";
  Result<std::string> result = NormalizeDomain("bad\r\nname" + hostile);
  ASSERT_FALSE(result.ok());
  const std::string& message = result.status().message();
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_EQ(message.find('\r'), std::string::npos);
  EXPECT_EQ(message.rfind("\"bad??name", 0), 0u) << message;
  EXPECT_NE(message.find("...\""), std::string::npos);
  EXPECT_LT(message.size(), 200u);
}

TEST(NormalizeDomainTest, AcceptsIdnaALabelsInLowerCase) {
  EXPECT_EQ(*NormalizeDomain("xn--bcher-kva.example"), "xn--bcher-kva.example");  // bücher
  EXPECT_EQ(*NormalizeDomain("XN--BCHER-KVA.Example"), "xn--bcher-kva.example");  // any case
  EXPECT_EQ(*NormalizeDomain("Xn--Mnchen-3ya.de."), "xn--mnchen-3ya.de");         // münchen
  EXPECT_EQ(*NormalizeDomain("mail.xn--nxasmm1c.example"), "mail.xn--nxasmm1c.example");  // βόλος
  EXPECT_EQ(*NormalizeDomain("xn--zca.example"), "xn--zca.example");  // ß is PVALID in IDNA2008
  EXPECT_EQ(*NormalizeDomain("axn--b.example"), "axn--b.example") << "not an A-label at all";
}

// RejectedBecause returns the reason NormalizeDomain gives for `name`, or "accepted".
std::string RejectedBecause(const std::string& name) {
  Result<std::string> result = NormalizeDomain(name);
  if (result.ok()) return "accepted";
  EXPECT_EQ(result.status().code(), ErrorCode::kBadRequest);
  return result.status().message();
}

TEST(NormalizeDomainTest, RejectsXnLabelsThatAreNotPunycode) {
  EXPECT_EQ(RejectedBecause("xn--ab-c.example"),
            "\"xn--ab-c.example\" is not a valid domain name: label \"xn--ab-c\" is not valid "
            "punycode (string contains invalid punycode data)");
  EXPECT_EQ(RejectedBecause("mail.XN--0.example"),
            "\"mail.XN--0.example\" is not a valid domain name: label \"xn--0\" is not valid "
            "punycode (string contains invalid punycode data)");
  // Decodes to a code point beyond Unicode.
  EXPECT_NE(RejectedBecause("xn--99999999.example").find("\"xn--99999999\" is not valid punycode"),
            std::string::npos);
  EXPECT_NE(RejectedBecause("xn--.example").find("label starts or ends with a hyphen"),
            std::string::npos);
}

TEST(NormalizeDomainTest, RejectsXnLabelsWhoseUnicodeIdna2008Forbids) {
  const std::pair<const char*, const char*> cases[] = {
      {"xn--zz-ozz.example", "string contains a disallowed character"},  // "zz" U+2988, a bracket
      {"xn--ls8h.example", "string contains a disallowed character"},    // an emoji
      {"xn--u-ccb.example", "string is not in Unicode NFC format"},      // u + combining diaeresis
      {"xn--ssa.example", "string contains a forbidden leading combining character"},
      {"xn--xn--bcher-kva.example", "string contains forbidden two hyphens pattern"},
  };
  for (const auto& [name, why] : cases) {
    const std::string label = std::string(name).substr(0, std::string(name).find('.'));
    EXPECT_EQ(RejectedBecause(name), "\"" + std::string(name) +
                                         "\" is not a valid domain name: label \"" + label +
                                         "\" is not an IDNA2008 A-label (" + why + ")");
  }
}

TEST(QuoteUntrustedTest, ReplacesUnprintableBytes) {
  EXPECT_EQ(QuoteUntrusted("ok"), "\"ok\"");
  EXPECT_EQ(QuoteUntrusted("a\"b\\c\x01\xff"), "\"a?b?c??\"");
  EXPECT_EQ(QuoteUntrusted(std::string(81, 'z')), "\"" + std::string(80, 'z') + "...\"");
}

TEST(IpLiteralTest, RecognisesV4AndV6) {
  for (const char* host : {"127.0.0.1", "0.0.0.0", "255.255.255.255", "::1", "[::1]",
                           "::", "2001:db8::1", "::ffff:192.0.2.1", "[fe80::1]"}) {
    EXPECT_TRUE(IsIpLiteral(host)) << host;
  }
  for (const char* host : {"", "[]", "256.0.0.1", "1.2.3", "01.2.3.4x", "[127.0.0.1]",
                           "example.org", "::1]", "[::1", "fe80::1%eth0", "1.2.3.4 ", "[[::1]]"}) {
    EXPECT_FALSE(IsIpLiteral(host)) << host;
  }
}

TEST(ValidHostTest, AcceptsNamesAndLiterals) {
  for (const char* host : {"xmpp.example.com", "XMPP.Example.com.", "localhost", "192.0.2.7",
                           "[2001:db8::7]", "2001:db8::7"}) {
    EXPECT_TRUE(IsValidHost(host)) << host;
  }
  for (const char* host : {"", "exa mple.com", "1.2.3", "999.1.1.1",
                           "b\xc3\xbc"
                           "cher.de",
                           "-a.example", "xn--zz-ozz.example"}) {
    EXPECT_FALSE(IsValidHost(host)) << host;
  }
}

}  // namespace
}  // namespace deputy
