// Conformance to the specifications deputy reads by: HTTP caching (RFC 9110/9111) of the
// delegation document, URL templates, service names (RFC 6335) and document defaults.
#include <gtest/gtest.h>

#include <string>

#include "config/config_loader.h"
#include "config/services_db.h"
#include "delegation/document.h"
#include "delegation/interpret.h"
#include "frontends/connect_frontend.h"
#include "http/cache_control.h"

namespace deputy {
namespace {

FetchResult Answer200(std::vector<std::pair<std::string, std::string>> headers) {
  FetchResult fetched;
  fetched.response.status = 200;
  fetched.response.headers = std::move(headers);
  fetched.response.body = R"([{"host": "xmpp.example.com", "port": 5223}])";
  fetched.final_url = "https://example.org/.well-known/service/xmpp-client";
  return fetched;
}

DiscoveryConfig Discovery() {
  DiscoveryConfig config;
  config.min_ttl_s = 60;
  config.max_ttl_s = 86400;
  config.default_ttl_s = 3600;
  return config;
}

int64_t TtlOf(const FetchResult& fetched) {
  auto delegation = InterpretResponse(
      fetched, Discovery(), [](const std::string&) { return false; }, nullptr);
  EXPECT_TRUE(delegation.ok()) << delegation.status().message();
  return delegation.ok() ? (*delegation)->ttl_s : -1;
}

// RFC 9110 section 5.3: field lines with the same name form one comma-separated list.
// cache_control.h even asks for "several Cache-Control lines joined by ', '", but
// InterpretResponse passes HttpResponse::Header, which returns only the first line.
TEST(CacheLifetimeTest, NoStoreOnASecondCacheControlLineIsHonoured) {
  EXPECT_EQ(TtlOf(Answer200({{"Cache-Control", "public"}, {"Cache-Control", "no-store"}})), 60);
}

TEST(CacheLifetimeTest, MaxAgeOnASecondCacheControlLineIsHonoured) {
  EXPECT_EQ(TtlOf(Answer200({{"Cache-Control", "public"}, {"Cache-Control", "max-age=120"}})), 120);
}

// RFC 9111 section 5.2.2.7: a shared cache must not store a `private` response; deputy's cache
// is shared by every client (cache_control.h says so to justify s-maxage).
TEST(CacheLifetimeTest, PrivateIsNotStoredByASharedCache) {
  EXPECT_EQ(ResponseLifetime("private, max-age=3600", "", ""), 0);
}

// RFC 9111 section 4.2.3: the remaining freshness is the lifetime minus the response's Age.
TEST(CacheLifetimeTest, AgeIsSubtractedFromTheLifetime) {
  EXPECT_EQ(TtlOf(Answer200({{"Cache-Control", "max-age=7200"}, {"Age", "7000"}})), 200);
}

// RFC 9110 section 6.6.1: a recipient that gets no Date uses the time it received the response.
// An Expires in the distant past is then already stale, not "nothing said" (default_ttl_s).
TEST(CacheLifetimeTest, ExpiresInThePastWithoutDateIsStale) {
  EXPECT_EQ(ResponseLifetime("", "Thu, 01 Jan 1970 00:00:00 GMT", ""), 0);
}

// Issue section 6: an impossible value is an error naming its path. These templates pass
// `deputy check` yet no lookup can ever succeed with them.
TEST(UrlTemplateTest, UrlTemplateThatCanNeverFormAUrlIsRejected) {
  for (const char* tmpl : {"https://{domain}:99999/.well-known/service/{service}",
                           "https://{domain}/.well-known/service/ {service}",
                           "https://user@{domain}/.well-known/service/{service}"}) {
    const std::string json =
        std::string(R"({"listeners": [{"name": "c", "address": "127.0.0.1:3128"}],)") +
        R"("discovery": {"url_template": ")" + tmpl + R"("}})";
    Result<Config> config = ParseConfig(json);
    EXPECT_FALSE(config.ok()) << tmpl;
    if (!config.ok()) EXPECT_EQ(config.status().message().rfind("discovery.url_template", 0), 0u);
  }
}

// RFC 6335 section 5.1: case is ignored when comparing service names ("http" and "HTTP" are
// the same service). deputy keeps the case, so an upper-case name forms another URL path,
// another cache key, and misses the port of the same service.
TEST(ServiceNameCaseTest, ServiceNamesCompareCaseInsensitively) {
  Config config;
  config.services["xmpp-client"] = 5222;
  EXPECT_EQ(PortForService("XMPP-Client", config), std::optional<uint16_t>(5222));
  auto destination = ConnectFrontend::ParseAuthority("example.org:XMPP-CLIENT", config);
  ASSERT_TRUE(destination.ok()) << destination.status().message();
  EXPECT_EQ(destination->service, "xmpp-client");
  EXPECT_EQ(destination->port, std::optional<uint16_t>(5222));
}

TEST(ServiceNameCaseTest, ConfigServicesDifferingOnlyInCaseAreRejected) {
  Result<Config> config = ParseConfig(
      R"({"listeners": [{"name": "c", "address": "127.0.0.1:3128"}],
          "services": {"xmpp-client": 5222, "XMPP-CLIENT": 5223}})");
  EXPECT_FALSE(config.ok());
}

// Issue section 2: `domain` defaults to `host`, and `host` may be an IP literal; the TLS code
// can verify an IP SAN. deputy instead skips such an entry, so a document made only of them is
// a bad_document (502).
TEST(DocumentDefaultsTest, IpLiteralHostWithoutDomainDefaultsToTheHost) {
  Result<Document> document = ParseDocument(R"([{"host": "192.0.2.1", "port": 5223}])",
                                            [](const std::string&) { return false; });
  ASSERT_TRUE(document.ok()) << document.status().message();
  ASSERT_EQ(document->targets.size(), 1u);
  EXPECT_EQ(document->targets[0].domain, "192.0.2.1");
}

}  // namespace
}  // namespace deputy
