#include "http/url.h"

#include <gtest/gtest.h>

#include <string>

namespace deputy {
namespace {

HttpsUrl MustParse(std::string_view url) {
  Result<HttpsUrl> parsed = ParseHttpsUrl(url);
  EXPECT_TRUE(parsed.ok()) << url << ": " << parsed.status().ToString();
  return parsed.ok() ? *parsed : HttpsUrl{};
}

TEST(ParseHttpsUrlTest, SplitsHostPortAndPath) {
  HttpsUrl url = MustParse("https://Example.ORG./.well-known/service/xmpp-client?x=1#frag");
  EXPECT_EQ(url.host, "example.org");
  EXPECT_EQ(url.port, 443);
  EXPECT_EQ(url.path, "/.well-known/service/xmpp-client?x=1");
  EXPECT_EQ(url.HostHeader(), "example.org");
  EXPECT_EQ(url.ToString(), "https://example.org/.well-known/service/xmpp-client?x=1");

  url = MustParse("HTTPS://example.org:8443");
  EXPECT_EQ(url.port, 8443);
  EXPECT_EQ(url.path, "/");
  EXPECT_EQ(url.HostHeader(), "example.org:8443");
  EXPECT_EQ(url.ToString(), "https://example.org:8443/");

  EXPECT_EQ(MustParse("https://example.org?q").path, "/?q");
  EXPECT_EQ(MustParse("https://example.org:/x").port, 443);
  EXPECT_EQ(MustParse("https://example.org:443/x").HostHeader(), "example.org");
  EXPECT_EQ(MustParse("https://example.org:00080/x").port, 80);
  EXPECT_EQ(MustParse("https://example.org/a/./b/../c").path, "/a/c");
}

TEST(ParseHttpsUrlTest, IpLiterals) {
  HttpsUrl v4 = MustParse("https://127.0.0.1:4443/x");
  EXPECT_EQ(v4.host, "127.0.0.1");
  EXPECT_EQ(v4.HostHeader(), "127.0.0.1:4443");

  HttpsUrl v6 = MustParse("https://[2001:DB8::1]:4443/x");
  EXPECT_EQ(v6.host, "2001:db8::1");
  EXPECT_EQ(v6.HostHeader(), "[2001:db8::1]:4443");
  EXPECT_EQ(v6.ToString(), "https://[2001:db8::1]:4443/x");
  EXPECT_EQ(MustParse("https://[::1]/").HostHeader(), "[::1]");
}

TEST(ParseHttpsUrlTest, RefusesOtherSchemesAsBadRedirect) {
  for (const char* url : {"http://example.org/", "HTTP://example.org/", "ftp://example.org/",
                          "mailto:a@example.org", "javascript:alert(1)"}) {
    Result<HttpsUrl> parsed = ParseHttpsUrl(url);
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kBadRedirect) << url;
    EXPECT_EQ(parsed.status().message(), "refusing non-https URL \"" + std::string(url) + "\"");
  }
}

TEST(ParseHttpsUrlTest, RejectsMalformed) {
  for (const char* url : {"",
                          "example.org/x",
                          "/x",
                          "https:example.org",
                          "https:/example.org",
                          "https://",
                          "https:///x",
                          "https://user@example.org/",
                          "https://user:pw@example.org/",
                          "https://example.org:0/",
                          "https://example.org:65536/",
                          "https://example.org:99999999/",
                          "https://example.org:-1/",
                          "https://example.org:44x/",
                          "https://exa mple.org/",
                          "https://example.org/a b",
                          "https://example.org/\r\nX-Injected: 1",
                          "https://b\xc3\xbc"
                          "cher.de/",
                          "https://[::1/",
                          "https://[example.org]/",
                          "https://[127.0.0.1]/",
                          "https://::1/",
                          "https://[::1]x/",
                          "https://exa_mple.org/",
                          "https://1.2.3/",
                          "https://example.org\t/"}) {
    Result<HttpsUrl> parsed = ParseHttpsUrl(url);
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kHttpProtocolError) << url;
    EXPECT_EQ(parsed.status().message().find('\n'), std::string::npos);
  }
}

TEST(ResolveLocationTest, FormsOfReference) {
  const HttpsUrl base = MustParse("https://example.org:8443/.well-known/service/xmpp?x=1");
  auto resolve = [&](std::string_view location) {
    Result<HttpsUrl> url = ResolveLocation(base, location);
    return url.ok() ? url->ToString() : "error: " + url.status().ToString();
  };
  EXPECT_EQ(resolve("https://other.example/doc"), "https://other.example/doc");
  EXPECT_EQ(resolve("HTTPS://Other.Example:9443"), "https://other.example:9443/");
  EXPECT_EQ(resolve("//cdn.example/doc?y"), "https://cdn.example/doc?y");
  EXPECT_EQ(resolve("/moved/here"), "https://example.org:8443/moved/here");
  EXPECT_EQ(resolve("xmpp-client"), "https://example.org:8443/.well-known/service/xmpp-client");
  EXPECT_EQ(resolve("../other/x"), "https://example.org:8443/.well-known/other/x");
  EXPECT_EQ(resolve("../../../../x"), "https://example.org:8443/x");
  EXPECT_EQ(resolve("./"), "https://example.org:8443/.well-known/service/");
  EXPECT_EQ(resolve(".."), "https://example.org:8443/.well-known/");
  EXPECT_EQ(resolve("?z=2"), "https://example.org:8443/.well-known/service/xmpp?z=2");
  EXPECT_EQ(resolve("#top"), "https://example.org:8443/.well-known/service/xmpp?x=1");
  EXPECT_EQ(resolve("/a/b#frag"), "https://example.org:8443/a/b");
  EXPECT_EQ(resolve("x:y/z"), "error: bad_redirect: refusing non-https URL \"x:y/z\"");
  EXPECT_EQ(resolve("./x:y"), "https://example.org:8443/.well-known/service/x:y");
}

TEST(ResolveLocationTest, RefusesNonHttps) {
  const HttpsUrl base = MustParse("https://example.org/");
  for (const char* location : {"http://example.org/", "Http://example.org/x", "ftp://x.example/",
                               "data:text/plain,hi", "file:///etc/passwd"}) {
    Result<HttpsUrl> url = ResolveLocation(base, location);
    ASSERT_FALSE(url.ok()) << location;
    EXPECT_EQ(url.status().code(), ErrorCode::kBadRedirect) << location;
  }
}

TEST(ResolveLocationTest, RejectsMalformed) {
  const HttpsUrl base = MustParse("https://example.org/");
  for (const char* location :
       {"", "/a b", "/x\r\nHost: evil", "//user@evil.example/", "//", "https://", "/\x7f"}) {
    Result<HttpsUrl> url = ResolveLocation(base, location);
    ASSERT_FALSE(url.ok()) << location;
    EXPECT_EQ(url.status().code(), ErrorCode::kHttpProtocolError) << location;
  }
}

TEST(ResolveLocationTest, HandBuiltBaseWithoutPath) {
  const HttpsUrl base{"example.org", 443, ""};
  Result<HttpsUrl> url = ResolveLocation(base, "doc");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(url->path, "/doc");
}

TEST(ExpandUrlTemplateTest, ReplacesEveryPlaceholder) {
  EXPECT_EQ(ExpandUrlTemplate("https://{domain}/.well-known/service/{service}", "example.org",
                              "xmpp-client"),
            "https://example.org/.well-known/service/xmpp-client");
  EXPECT_EQ(ExpandUrlTemplate("https://www.{domain}:8443/services/{service}/{domain}/{service}",
                              "a.example", "imap"),
            "https://www.a.example:8443/services/imap/a.example/imap");
  EXPECT_EQ(ExpandUrlTemplate("https://x/{domain", "d", "s"), "https://x/{domain");
  EXPECT_EQ(ExpandUrlTemplate("{{domain}}{service}{}", "d", "s"), "{d}s{}");
  EXPECT_EQ(ExpandUrlTemplate("", "d", "s"), "");
  EXPECT_EQ(ExpandUrlTemplate("{domain}", "{service}", "s"), "{service}")
      << "substituted text is not expanded again";
}

}  // namespace
}  // namespace deputy
