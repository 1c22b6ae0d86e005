#include "config/config_loader.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace deputy {
namespace {

using Json = nlohmann::json;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// The example from the issue, with real values where it shows "...".
constexpr char kIssueExample[] = R"({
  "listeners": [ {"name": "connect", "type": "connect", "address": "127.0.0.1:3128"},
                 {"name": "xmpp", "type": "fixed", "address": "127.0.0.1:5222",
                  "domain": "example.org", "service": "xmpp-client"} ],
  "admin": {"address": "127.0.0.1:9901"},
  "discovery": {"ca_file": "/etc/ssl/certs/ca-certificates.crt",
                "url_template": "https://{domain}/.well-known/service/{service}",
                "timeout_ms": 5000, "max_document_bytes": 65536, "min_ttl_s": 60,
                "max_ttl_s": 86400, "default_ttl_s": 3600, "negative_ttl_s": 300,
                "fallback": "direct"},
  "upstream": {"ca_file": "/etc/ssl/certs/ca-certificates.crt", "min_tls_version": "1.2",
               "connect_timeout_ms": 5000, "handshake_timeout_ms": 5000, "idle_timeout_s": 3600},
  "dns": {"hosts": {"example.org": ["127.0.0.2"]}},
  "services": {"xmpp-client": 5222} })";

// Base is a small valid config: one connect and one fixed listener, everything else default.
Json Base() {
  return Json::parse(R"({"listeners": [
      {"name": "connect", "type": "connect", "address": "127.0.0.1:3128"},
      {"name": "xmpp", "type": "fixed", "address": "127.0.0.1:5222",
       "domain": "example.org", "service": "xmpp-client"}]})");
}

Json With(const std::string& pointer, const Json& value) {
  Json doc = Base();
  doc[Json::json_pointer(pointer)] = value;
  return doc;
}

Json Without(const std::string& pointer) {
  Json doc = Base();
  doc.at(Json::json_pointer(pointer).parent_pointer()).erase(Json::json_pointer(pointer).back());
  return doc;
}

Config MustParse(const Json& doc) {
  Result<Config> config = ParseConfig(doc.dump());
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return config.ok() ? std::move(config).value() : Config{};
}

// RejectionOfText parses `text`, expects kInvalidConfig and returns the message.
std::string RejectionOfText(const std::string& text) {
  Result<Config> config = ParseConfig(text);
  EXPECT_FALSE(config.ok()) << "accepted: " << text;
  EXPECT_EQ(config.status().code(), ErrorCode::kInvalidConfig);
  return config.status().message();
}

std::string RejectionOf(const Json& doc) { return RejectionOfText(doc.dump()); }

TEST(ConfigLoaderTest, LeftOutKeysKeepTheDefaults) {
  const Config config = MustParse(Json::parse(R"({"listeners": [
      {"name": "only", "address": "127.0.0.1:0"}]})"));
  ASSERT_EQ(config.listeners.size(), 1u);
  const ListenerConfig& listener = config.listeners[0];
  EXPECT_EQ(listener.name, "only");
  EXPECT_EQ(listener.type, ListenerType::kConnect);
  EXPECT_EQ(listener.address.host, "127.0.0.1");
  EXPECT_EQ(listener.address.port, 0);
  EXPECT_EQ(listener.max_header_bytes, 8192u);
  EXPECT_EQ(listener.max_connections, 4096u);
  EXPECT_EQ(listener.header_timeout_ms, 10000u);
  EXPECT_FALSE(listener.port.has_value());
  EXPECT_FALSE(config.admin.address.has_value());

  const DiscoveryConfig& discovery = config.discovery;
  EXPECT_EQ(discovery.ca_file, "/etc/ssl/certs/ca-certificates.crt");
  EXPECT_EQ(discovery.url_template, "https://{domain}/.well-known/service/{service}");
  EXPECT_EQ(discovery.timeout_ms, 5000u);
  EXPECT_EQ(discovery.max_document_bytes, 65536u);
  EXPECT_EQ(discovery.min_ttl_s, 60u);
  EXPECT_EQ(discovery.max_ttl_s, 86400u);
  EXPECT_EQ(discovery.default_ttl_s, 3600u);
  EXPECT_EQ(discovery.negative_ttl_s, 300u);
  EXPECT_EQ(discovery.sources,
            (std::vector<DiscoverySource>{DiscoverySource::kWellKnown, DiscoverySource::kDirect}));
  EXPECT_EQ(discovery.max_redirects, 3u);
  EXPECT_EQ(discovery.max_inflight_fetches, 256u);
  EXPECT_EQ(discovery.max_inflight_fetches_per_domain, 32u);
  EXPECT_EQ(discovery.cache_max_entries, 10000u);
  EXPECT_EQ(discovery.cache_max_bytes, 64u * 1024 * 1024);
  EXPECT_EQ(discovery.max_entries_per_domain, 64u);

  const UpstreamConfig& upstream = config.upstream;
  EXPECT_EQ(upstream.ca_file, "/etc/ssl/certs/ca-certificates.crt");
  EXPECT_EQ(upstream.min_tls_version, TlsVersion::kTls12);
  EXPECT_EQ(upstream.connect_timeout_ms, 5000u);
  EXPECT_EQ(upstream.handshake_timeout_ms, 5000u);
  EXPECT_EQ(upstream.happy_eyeballs_delay_ms, 250u);
  EXPECT_EQ(upstream.max_attempts, 8u);
  EXPECT_EQ(upstream.connect_budget_ms, 15000u);
  EXPECT_EQ(upstream.idle_timeout_s, 3600u);
  EXPECT_EQ(upstream.buffer_bytes, 65536u);

  EXPECT_TRUE(config.dns.hosts.empty());
  EXPECT_EQ(config.dns.timeout_ms, 5000u);
  EXPECT_TRUE(config.services.empty());
}

TEST(ConfigLoaderTest, ParsesTheIssueExample) {
  Result<Config> parsed = ParseConfig(kIssueExample);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const Config& config = *parsed;
  ASSERT_EQ(config.listeners.size(), 2u);
  EXPECT_EQ(config.listeners[0].name, "connect");
  EXPECT_EQ(config.listeners[0].type, ListenerType::kConnect);
  EXPECT_EQ(config.listeners[0].address.ToString(), "127.0.0.1:3128");
  EXPECT_EQ(config.listeners[1].name, "xmpp");
  EXPECT_EQ(config.listeners[1].type, ListenerType::kFixed);
  EXPECT_EQ(config.listeners[1].address.port, 5222);
  EXPECT_EQ(config.listeners[1].domain, "example.org");
  EXPECT_EQ(config.listeners[1].service, "xmpp-client");
  ASSERT_TRUE(config.admin.address.has_value());
  EXPECT_EQ(config.admin.address->ToString(), "127.0.0.1:9901");
  EXPECT_EQ(config.dns.hosts.at("example.org"), std::vector<std::string>{"127.0.0.2"});
  EXPECT_EQ(config.services.at("xmpp-client"), 5222);
}

TEST(ConfigLoaderTest, ReadsEveryKeyIntoItsField) {
  const Config config = MustParse(Json::parse(R"({
    "listeners": [
      {"name": "c.1", "type": "connect", "address": "[::1]:8080", "max_header_bytes": 1000,
       "header_timeout_ms": 2000},
      {"name": "f_2", "type": "fixed", "address": "127.0.0.1:8081", "domain": "Example.ORG.",
       "service": "imap", "port": 993}],
    "admin": {"address": "[::1]:9000"},
    "discovery": {"ca_file": "/d.pem", "url_template": "https://{domain}:8443/x/{service}",
                  "timeout_ms": 11, "max_document_bytes": 12, "min_ttl_s": 13, "max_ttl_s": 15,
                  "default_ttl_s": 14, "negative_ttl_s": 16, "fallback": "deny",
                  "max_redirects": 0, "max_inflight_fetches": 17, "cache_max_entries": 18,
                  "cache_max_bytes": 19, "max_entries_per_domain": 20,
                  "max_inflight_fetches_per_domain": 26},
    "upstream": {"ca_file": "/u.pem", "min_tls_version": "1.3", "connect_timeout_ms": 21,
                 "handshake_timeout_ms": 22, "max_attempts": 24, "connect_budget_ms": 25,
                 "idle_timeout_s": 23, "buffer_bytes": 4096},
    "dns": {"hosts": {"Host.Example.": ["127.0.0.3", "::1"]}, "timeout_ms": 31},
    "services": {"xmpp-client": 15222}})"));
  ASSERT_EQ(config.listeners.size(), 2u);
  EXPECT_EQ(config.listeners[0].address.host, "::1");
  EXPECT_EQ(config.listeners[0].address.port, 8080);
  EXPECT_EQ(config.listeners[0].max_header_bytes, 1000u);
  EXPECT_EQ(config.listeners[0].header_timeout_ms, 2000u);
  EXPECT_EQ(config.listeners[1].name, "f_2");
  EXPECT_EQ(config.listeners[1].domain, "example.org");  // lower-cased, trailing dot dropped
  EXPECT_EQ(config.listeners[1].service, "imap");
  EXPECT_EQ(config.listeners[1].port, std::optional<uint16_t>(993));
  EXPECT_EQ(config.admin.address->ToString(), "[::1]:9000");

  EXPECT_EQ(config.discovery.ca_file, "/d.pem");
  EXPECT_EQ(config.discovery.url_template, "https://{domain}:8443/x/{service}");
  EXPECT_EQ(config.discovery.timeout_ms, 11u);
  EXPECT_EQ(config.discovery.max_document_bytes, 12u);
  EXPECT_EQ(config.discovery.min_ttl_s, 13u);
  EXPECT_EQ(config.discovery.default_ttl_s, 14u);
  EXPECT_EQ(config.discovery.max_ttl_s, 15u);
  EXPECT_EQ(config.discovery.negative_ttl_s, 16u);
  EXPECT_EQ(config.discovery.sources, std::vector<DiscoverySource>{DiscoverySource::kWellKnown});
  EXPECT_EQ(config.discovery.max_redirects, 0u);
  EXPECT_EQ(config.discovery.max_inflight_fetches, 17u);
  EXPECT_EQ(config.discovery.cache_max_entries, 18u);
  EXPECT_EQ(config.discovery.cache_max_bytes, 19u);
  EXPECT_EQ(config.discovery.max_entries_per_domain, 20u);
  EXPECT_EQ(config.discovery.max_inflight_fetches_per_domain, 26u);

  EXPECT_EQ(config.upstream.ca_file, "/u.pem");
  EXPECT_EQ(config.upstream.min_tls_version, TlsVersion::kTls13);
  EXPECT_EQ(config.upstream.connect_timeout_ms, 21u);
  EXPECT_EQ(config.upstream.handshake_timeout_ms, 22u);
  EXPECT_EQ(config.upstream.max_attempts, 24u);
  EXPECT_EQ(config.upstream.connect_budget_ms, 25u);
  EXPECT_EQ(config.upstream.idle_timeout_s, 23u);
  EXPECT_EQ(config.upstream.buffer_bytes, 4096u);

  const std::vector<std::string> addresses = {"127.0.0.3", "::1"};
  EXPECT_EQ(config.dns.hosts.at("host.example"), addresses);
  EXPECT_EQ(config.dns.timeout_ms, 31u);
  EXPECT_EQ(config.services.at("xmpp-client"), 15222);
}

TEST(ConfigLoaderTest, LoadsTheShippedDefaultConfig) {
  Result<Config> loaded = LoadConfig(DEPUTY_SOURCE_DIR "/conf/deputy.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const Config& config = *loaded;
  ASSERT_EQ(config.listeners.size(), 1u);
  EXPECT_EQ(config.listeners[0].name, "connect");
  EXPECT_EQ(config.listeners[0].type, ListenerType::kConnect);
  EXPECT_EQ(config.listeners[0].address.ToString(), "127.0.0.1:3128");
  ASSERT_TRUE(config.admin.address.has_value());
  EXPECT_EQ(config.admin.address->ToString(), "127.0.0.1:9901");
  EXPECT_EQ(config.discovery.ca_file, "/etc/ssl/certs/ca-certificates.crt");
  EXPECT_EQ(config.upstream.ca_file, "/etc/ssl/certs/ca-certificates.crt");
  EXPECT_EQ(config.discovery.sources,
            (std::vector<DiscoverySource>{DiscoverySource::kWellKnown, DiscoverySource::kDirect}));
  EXPECT_TRUE(config.dns.hosts.empty());
  EXPECT_EQ(config.services.at("xmpp-client"), 5222);
  EXPECT_EQ(config.services.at("xmpp-server"), 5269);
}

TEST(ConfigLoaderTest, SyntaxErrorGivesLineAndColumn) {
  const std::string message = RejectionOfText("{\n  \"listeners\": [\n    x\n  ]\n}");
  EXPECT_THAT(message, StartsWith("config: JSON syntax error at line 3, column 5: ")) << message;
}

TEST(ConfigLoaderTest, SyntaxErrorAtEndOfInput) {
  EXPECT_THAT(RejectionOfText("{\"listeners\": [\n"),
              StartsWith("config: JSON syntax error at line 2, column 1: "));
  EXPECT_THAT(RejectionOfText(""), StartsWith("config: JSON syntax error at line 1, column 1: "));
}

TEST(ConfigLoaderTest, CommentsAreSyntaxErrors) {
  EXPECT_THAT(RejectionOfText("// hello\n{}"), StartsWith("config: JSON syntax error at line 1"));
}

TEST(ConfigLoaderTest, DocumentMustBeAnObject) {
  EXPECT_EQ(RejectionOfText("[1, 2]"), "config: expected an object, got [1,2]");
}

TEST(ConfigLoaderTest, UnknownKeyNamesItsPath) {
  EXPECT_EQ(RejectionOf(With("/discovery/bogus", 1)), "discovery.bogus: unknown key");
  EXPECT_EQ(RejectionOf(With("/bogus", 1)), "bogus: unknown key");
  EXPECT_EQ(RejectionOf(With("/listeners/1/bogus", 1)), "listeners[1].bogus: unknown key");
  EXPECT_EQ(RejectionOf(With("/admin/bogus", 1)), "admin.bogus: unknown key");
  EXPECT_EQ(RejectionOf(With("/upstream/bogus", 1)), "upstream.bogus: unknown key");
  EXPECT_EQ(RejectionOf(With("/dns/bogus", 1)), "dns.bogus: unknown key");
  EXPECT_EQ(RejectionOf(With("/discovery/a b", 1)), "discovery[\"a b\"]: unknown key");
}

TEST(ConfigLoaderTest, DuplicateKeyNamesItsPath) {
  EXPECT_EQ(RejectionOfText(R"({"listeners": [{"name": "a", "address": "127.0.0.1:1"}],
                            "discovery": {"timeout_ms": 1, "timeout_ms": 2}})"),
            "discovery.timeout_ms: duplicate key");
  EXPECT_EQ(RejectionOfText(R"({"listeners": [{"name": "a", "address": "127.0.0.1:1"},
                                          {"name": "b", "name": "c"}]})"),
            "listeners[1].name: duplicate key");
  EXPECT_EQ(RejectionOfText(R"({"listeners": [], "listeners": []})"), "listeners: duplicate key");
}

TEST(ConfigLoaderTest, StringWhereIntegerExpected) {
  EXPECT_EQ(RejectionOf(With("/discovery/timeout_ms", "5")),
            R"(discovery.timeout_ms: expected a positive integer, got "5")");
}

TEST(ConfigLoaderTest, NameServersAreIpLiteralsWithPort53UnlessGiven) {
  const Config config =
      MustParse(With("/dns", {{"servers", {"127.0.0.53", "127.0.0.1:5353", "::1", "[::1]:5300"}},
                              {"attempts", 3}}));
  EXPECT_EQ(config.dns.servers,
            (std::vector<SocketAddress>{
                {"127.0.0.53", 53}, {"127.0.0.1", 5353}, {"::1", 53}, {"::1", 5300}}));
  EXPECT_EQ(config.dns.attempts, 3u);
  std::vector<std::string> endpoints;
  for (const IpEndpoint& endpoint : config.dns.Settings().servers) {
    endpoints.push_back(endpoint.ToString());
  }
  EXPECT_EQ(endpoints, (std::vector<std::string>{"127.0.0.53:53", "127.0.0.1:5353", "[::1]:53",
                                                 "[::1]:5300"}));
  EXPECT_TRUE(MustParse(Base()).dns.servers.empty());
  EXPECT_EQ(MustParse(Base()).dns.attempts, 2u);

  EXPECT_THAT(RejectionOf(With("/dns/servers", {"ns.example.org"})),
              StartsWith("dns.servers[0]: "));
  EXPECT_THAT(RejectionOf(With("/dns/servers", Json::array())),
              StartsWith("dns.servers: expected a list of 1 to 8 name servers"));
  EXPECT_THAT(RejectionOf(With("/dns/servers", Json(std::vector<std::string>(9, "127.0.0.1")))),
              StartsWith("dns.servers: expected a list of 1 to 8 name servers"));
  EXPECT_THAT(RejectionOf(With("/dns/attempts", 0)), StartsWith("dns.attempts: "));
  EXPECT_THAT(RejectionOf(With("/dns/attempts", 11)), StartsWith("dns.attempts: "));
}

TEST(ConfigLoaderTest, DnsCacheBoundsReachTheResolverAndAreChecked) {
  const Config config = MustParse(With("/dns", {{"min_ttl_s", 5},
                                                {"max_ttl_s", 60},
                                                {"max_negative_ttl_s", 10},
                                                {"cache_max_entries", 100},
                                                {"max_inflight_queries", 7}}));
  const DnsSettings settings = config.dns.Settings();
  EXPECT_EQ(settings.cache.min_ttl_s, 5u);
  EXPECT_EQ(settings.cache.max_ttl_s, 60u);
  EXPECT_EQ(settings.cache.max_negative_ttl_s, 10u);
  EXPECT_EQ(settings.cache.max_entries, 100u);
  EXPECT_EQ(settings.max_inflight_queries, 7u);
  const DnsSettings defaults = MustParse(Base()).dns.Settings();
  EXPECT_EQ(defaults.cache.max_ttl_s, 300u);
  EXPECT_EQ(defaults.cache.max_negative_ttl_s, 30u);
  EXPECT_EQ(defaults.cache.max_entries, 10000u);
  EXPECT_EQ(defaults.max_inflight_queries, 512u);

  EXPECT_THAT(RejectionOf(With("/dns", {{"min_ttl_s", 400}})),
              StartsWith("dns.min_ttl_s: 400 is above max_ttl_s (300)"));
  EXPECT_THAT(RejectionOf(With("/dns/max_inflight_queries", 0)),
              StartsWith("dns.max_inflight_queries: "));
  EXPECT_THAT(RejectionOf(With("/dns/timeout_ms", 600001)), StartsWith("dns.timeout_ms: "));
  EXPECT_THAT(RejectionOf(With("/dns/max_ttl_s", 7 * 86400 + 1)), StartsWith("dns.max_ttl_s: "));
}

TEST(ConfigLoaderTest, FloatsAndBooleansAreNotIntegers) {
  EXPECT_THAT(RejectionOf(With("/upstream/idle_timeout_s", 5.0)),
              StartsWith("upstream.idle_timeout_s: expected a positive integer"));
  EXPECT_THAT(RejectionOf(With("/dns/timeout_ms", true)),
              StartsWith("dns.timeout_ms: expected a positive integer"));
  EXPECT_THAT(RejectionOf(With("/discovery/negative_ttl_s", -1)),
              StartsWith("discovery.negative_ttl_s: expected a non-negative integer"));
}

TEST(ConfigLoaderTest, IntegerAbove32BitsIsRejected) {
  EXPECT_THAT(RejectionOf(With("/discovery/timeout_ms", 4294967296)),
              StartsWith("discovery.timeout_ms: "));
}

TEST(ConfigLoaderTest, WrongContainerTypes) {
  EXPECT_THAT(RejectionOf(With("/admin", "127.0.0.1:1")), StartsWith("admin: expected an object"));
  EXPECT_THAT(RejectionOf(With("/listeners", Json::object())),
              StartsWith("listeners: expected a list"));
  EXPECT_THAT(RejectionOf(With("/listeners/1", "xmpp")),
              StartsWith("listeners[1]: expected an object"));
  EXPECT_THAT(RejectionOf(With("/dns/hosts", Json::array())),
              StartsWith("dns.hosts: expected an object"));
  EXPECT_THAT(RejectionOf(With("/services", Json::array())),
              StartsWith("services: expected an object"));
}

TEST(ConfigLoaderTest, LongValuesAreCutShortInMessages) {
  const std::string message = RejectionOf(With("/discovery/fallback", std::string(5000, 'x')));
  EXPECT_THAT(message, StartsWith("discovery.fallback: "));
  EXPECT_LT(message.size(), 200u);
}

// Every positive setting rejects 0: a zero timeout or size cannot work.
class ZeroIsRejectedTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ZeroIsRejectedTest, NamesThePath) {
  const std::string pointer = GetParam();
  std::string path = pointer.substr(1);
  std::replace(path.begin(), path.end(), '/', '.');
  EXPECT_EQ(RejectionOf(With(pointer, 0)), path + ": expected a positive integer, got 0");
}

INSTANTIATE_TEST_SUITE_P(
    Settings, ZeroIsRejectedTest,
    ::testing::Values("/discovery/timeout_ms", "/discovery/max_document_bytes",
                      "/discovery/max_inflight_fetches",
                      "/discovery/max_inflight_fetches_per_domain", "/discovery/cache_max_entries",
                      "/discovery/cache_max_bytes", "/discovery/max_entries_per_domain",
                      "/upstream/connect_timeout_ms", "/upstream/handshake_timeout_ms",
                      "/upstream/max_attempts", "/upstream/connect_budget_ms",
                      "/upstream/idle_timeout_s", "/dns/timeout_ms"),
    [](const auto& info) {
      std::string name = info.param.substr(1);
      std::replace(name.begin(), name.end(), '/', '_');
      return name;
    });

TEST(ConfigLoaderTest, CacheLimitsAbove32BitsAreRejected) {
  EXPECT_THAT(RejectionOf(With("/discovery/cache_max_bytes", 4294967296)),
              StartsWith("discovery.cache_max_bytes: "));
  EXPECT_THAT(RejectionOf(With("/discovery/max_inflight_fetches", -1)),
              StartsWith("discovery.max_inflight_fetches: expected a positive integer"));
}

TEST(ConfigLoaderTest, ZeroListenerLimitsAreRejected) {
  EXPECT_THAT(RejectionOf(With("/listeners/0/header_timeout_ms", 0)),
              StartsWith("listeners[0].header_timeout_ms: expected a positive integer"));
  EXPECT_THAT(RejectionOf(With("/listeners/0/max_header_bytes", 0)),
              StartsWith("listeners[0].max_header_bytes: expected a positive integer"));
}

TEST(ConfigLoaderTest, ZeroTtlsAreAllowed) {
  Json doc = Base();
  doc["discovery"] = {
      {"min_ttl_s", 0}, {"max_ttl_s", 0}, {"default_ttl_s", 0}, {"negative_ttl_s", 0}};
  EXPECT_EQ(MustParse(doc).discovery.max_ttl_s, 0u);
}

TEST(ConfigLoaderTest, MinTtlAboveMaxTtl) {
  Json doc = Base();
  doc["discovery"] = {{"min_ttl_s", 100}, {"max_ttl_s", 99}};
  EXPECT_EQ(RejectionOf(doc), "discovery.min_ttl_s: 100 is above max_ttl_s (99)");
}

TEST(ConfigLoaderTest, MinTtlAboveTheDefaultMaxTtl) {
  EXPECT_THAT(RejectionOf(With("/discovery/min_ttl_s", 86401)),
              StartsWith("discovery.min_ttl_s: 86401 is above max_ttl_s (86400)"));
}

TEST(ConfigLoaderTest, DefaultTtlOutsideMinMax) {
  EXPECT_EQ(RejectionOf(With("/discovery/default_ttl_s", 59)),
            "discovery.default_ttl_s: 59 is outside [min_ttl_s, max_ttl_s] = [60, 86400]");
  EXPECT_THAT(RejectionOf(With("/discovery/default_ttl_s", 86401)),
              StartsWith("discovery.default_ttl_s: 86401 is outside"));
}

TEST(ConfigLoaderTest, UrlTemplateMustBeHttps) {
  EXPECT_EQ(
      RejectionOf(With("/discovery/url_template", "http://{domain}/.well-known/service/{service}")),
      "discovery.url_template: \"http://{domain}/.well-known/service/{service}\" must "
      "start with https://");
}

TEST(ConfigLoaderTest, UrlTemplateNeedsDomainAndService) {
  EXPECT_THAT(RejectionOf(With("/discovery/url_template", "https://example.org/{service}")),
              AllOf(StartsWith("discovery.url_template: "), HasSubstr("{domain}")));
  EXPECT_THAT(RejectionOf(With("/discovery/url_template", "https://{domain}/x")),
              AllOf(StartsWith("discovery.url_template: "), HasSubstr("{service}")));
}

TEST(ConfigLoaderTest, DiscoverySourcesAreAnOrderedListEndingAtDirect) {
  EXPECT_EQ(MustParse(With("/discovery/sources", {"srv", "well-known"})).discovery.sources,
            (std::vector<DiscoverySource>{DiscoverySource::kSrv, DiscoverySource::kWellKnown}));
  EXPECT_EQ(MustParse(With("/discovery/sources", {"srv", "direct"})).discovery.sources,
            (std::vector<DiscoverySource>{DiscoverySource::kSrv, DiscoverySource::kDirect}));
  EXPECT_EQ(
      RejectionOf(With("/discovery/sources", Json::array())),
      R"(discovery.sources: expected a non-empty list of "well-known", "srv" and "direct", got [])");
  EXPECT_EQ(RejectionOf(With("/discovery/sources", {"srv", "mdns"})),
            R"(discovery.sources[1]: expected "well-known", "srv" or "direct", got "mdns")");
  EXPECT_EQ(RejectionOf(With("/discovery/sources", {"srv", "srv"})),
            R"(discovery.sources[1]: "srv" is listed twice)");
  EXPECT_EQ(RejectionOf(With("/discovery/sources", {"direct", "srv"})),
            R"(discovery.sources[1]: comes after "direct", which always answers)");
  Json both = Base();
  both["discovery"]["fallback"] = "deny";
  both["discovery"]["sources"] = {"srv"};
  EXPECT_THAT(RejectionOf(both), StartsWith("discovery.fallback: give discovery.sources or"));
}

TEST(ConfigLoaderTest, FallbackMustBeDirectOrDeny) {
  EXPECT_EQ(RejectionOf(With("/discovery/fallback", "allow")),
            R"(discovery.fallback: expected "direct" or "deny", got "allow")");
}

TEST(ConfigLoaderTest, MaxRedirectsAtMostTen) {
  EXPECT_EQ(MustParse(With("/discovery/max_redirects", 10)).discovery.max_redirects, 10u);
  EXPECT_EQ(RejectionOf(With("/discovery/max_redirects", 11)),
            "discovery.max_redirects: expected an integer from 0 to 10, got 11");
}

TEST(ConfigLoaderTest, MinTlsVersionMustBe12Or13) {
  EXPECT_EQ(RejectionOf(With("/upstream/min_tls_version", "1.1")),
            R"(upstream.min_tls_version: expected "1.2" or "1.3", got "1.1")");
  EXPECT_THAT(RejectionOf(With("/upstream/min_tls_version", 1.3)),
              StartsWith("upstream.min_tls_version: "));
}

TEST(ConfigLoaderTest, BufferBytesWithinBounds) {
  EXPECT_EQ(MustParse(With("/upstream/buffer_bytes", 16 << 20)).upstream.buffer_bytes, 16u << 20);
  EXPECT_EQ(RejectionOf(With("/upstream/buffer_bytes", 4095)),
            "upstream.buffer_bytes: expected an integer from 4096 to 16777216, got 4095");
  EXPECT_THAT(RejectionOf(With("/upstream/buffer_bytes", (16 << 20) + 1)),
              StartsWith("upstream.buffer_bytes: "));
}

TEST(ConfigLoaderTest, ConnectLimitsArePositiveIntegers) {
  EXPECT_EQ(MustParse(With("/upstream/max_attempts", 1)).upstream.max_attempts, 1u);
  EXPECT_EQ(
      MustParse(With("/upstream/happy_eyeballs_delay_ms", 10)).upstream.happy_eyeballs_delay_ms,
      10u);
  EXPECT_THAT(RejectionOf(With("/upstream/happy_eyeballs_delay_ms", 9)),
              StartsWith("upstream.happy_eyeballs_delay_ms: "));
  EXPECT_THAT(RejectionOf(With("/upstream/happy_eyeballs_delay_ms", 2001)),
              StartsWith("upstream.happy_eyeballs_delay_ms: "));
  EXPECT_EQ(MustParse(With("/upstream/connect_budget_ms", 1)).upstream.connect_budget_ms, 1u);
  EXPECT_EQ(RejectionOf(With("/upstream/max_attempts", -1)),
            "upstream.max_attempts: expected a positive integer, got -1");
  EXPECT_THAT(RejectionOf(With("/upstream/connect_budget_ms", "15000")),
              StartsWith("upstream.connect_budget_ms: "));
}

TEST(ConfigLoaderTest, AllowTruncationIsABooleanThatDefaultsToFalse) {
  EXPECT_FALSE(MustParse(Base()).upstream.allow_truncation);
  EXPECT_TRUE(MustParse(With("/upstream/allow_truncation", true)).upstream.allow_truncation);
  EXPECT_FALSE(MustParse(With("/upstream/allow_truncation", false)).upstream.allow_truncation);
  EXPECT_EQ(RejectionOf(With("/upstream/allow_truncation", "true")),
            R"(upstream.allow_truncation: expected true or false, got "true")");
  EXPECT_EQ(RejectionOf(With("/upstream/allow_truncation", 1)),
            "upstream.allow_truncation: expected true or false, got 1");
}

TEST(ConfigLoaderTest, CaFileMustBeANonEmptyString) {
  EXPECT_EQ(RejectionOf(With("/discovery/ca_file", "")),
            R"(discovery.ca_file: expected a non-empty string, got "")");
  EXPECT_THAT(RejectionOf(With("/upstream/ca_file", 1)), StartsWith("upstream.ca_file: "));
}

TEST(ConfigLoaderTest, CaFileExistenceIsNotCheckedOnLoad) {
  EXPECT_EQ(MustParse(With("/upstream/ca_file", "/no/such/file.pem")).upstream.ca_file,
            "/no/such/file.pem");
}

TEST(ConfigLoaderTest, ListenersAreRequired) {
  EXPECT_EQ(RejectionOf(Json::object()), "listeners: at least one listener is required");
  EXPECT_EQ(RejectionOf(With("/listeners", Json::array())),
            "listeners: at least one listener is required");
}

TEST(ConfigLoaderTest, ListenerTypeMustBeConnectFixedOrSocks5) {
  EXPECT_EQ(RejectionOf(With("/listeners/0/type", "tcp")),
            R"(listeners[0].type: expected "connect" or "fixed" or "socks5", got "tcp")");
}

TEST(ConfigLoaderTest, ListenerNameRules) {
  EXPECT_EQ(RejectionOf(Without("/listeners/1/name")), "listeners[1].name: required");
  EXPECT_THAT(RejectionOf(With("/listeners/1/name", "")), StartsWith("listeners[1].name: "));
  EXPECT_THAT(RejectionOf(With("/listeners/1/name", "a b")),
              StartsWith("listeners[1].name: \"a b\" is not a valid listener name"));
  EXPECT_EQ(RejectionOf(With("/listeners/1/name", "connect")),
            "listeners[1].name: \"connect\" is also the name of listeners[0]");
}

TEST(ConfigLoaderTest, ListenerAddressIsRequired) {
  EXPECT_EQ(RejectionOf(Without("/listeners/0/address")), "listeners[0].address: required");
}

TEST(ConfigLoaderTest, InvalidAddressNamesItsPath) {
  EXPECT_EQ(RejectionOf(With("/listeners/1/address", "127.0.0.1:99999")),
            R"(listeners[1].address: "127.0.0.1:99999" is not a valid address:port)");
}

class BadAddressTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BadAddressTest, IsRejected) {
  EXPECT_EQ(RejectionOf(With("/admin/address", GetParam())),
            "admin.address: \"" + GetParam() + "\" is not a valid address:port");
  EXPECT_FALSE(ParseSocketAddress(GetParam()).ok());
}

INSTANTIATE_TEST_SUITE_P(Addresses, BadAddressTest,
                         ::testing::Values("127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                                           "127.0.0.1:80a", "127.0.0.1:-1", "127.0.0.1:123456",
                                           "::1:80", "[::1]", "[::1]80", "[::1]:", "localhost:80",
                                           "[127.0.0.1]:80", "300.0.0.1:80", ":80", "[]:80",
                                           "127.0.0.1:80 "));

TEST(ConfigLoaderTest, AddressMustBeAString) {
  EXPECT_THAT(RejectionOf(With("/admin/address", 9901)), StartsWith("admin.address: expected"));
}

TEST(ConfigLoaderTest, AddressesAreCanonical) {
  Result<SocketAddress> v6 = ParseSocketAddress("[0:0:0:0:0:0:0:1]:65535");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 65535);
  Result<SocketAddress> v4 = ParseSocketAddress("10.0.0.1:0");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "10.0.0.1");
  EXPECT_EQ(v4->port, 0);
}

TEST(ConfigLoaderTest, DuplicateListenerAddresses) {
  EXPECT_EQ(RejectionOf(With("/listeners/1/address", "127.0.0.1:3128")),
            R"(listeners[1].address: "127.0.0.1:3128" is also the address of listeners[0])");
}

TEST(ConfigLoaderTest, DuplicateIpv6AddressesCompareCanonically) {
  Json doc = Base();
  doc["listeners"][0]["address"] = "[::1]:3128";
  doc["listeners"][1]["address"] = "[0::1]:3128";
  EXPECT_THAT(RejectionOf(doc), StartsWith("listeners[1].address: "));
}

TEST(ConfigLoaderTest, EphemeralPortsMayRepeat) {
  Json doc = Base();
  doc["listeners"][0]["address"] = "127.0.0.1:0";
  doc["listeners"][1]["address"] = "127.0.0.1:0";
  doc["admin"]["address"] = "127.0.0.1:0";
  EXPECT_EQ(MustParse(doc).listeners.size(), 2u);
}

TEST(ConfigLoaderTest, AdminAddressMustNotBeAListenerAddress) {
  EXPECT_EQ(RejectionOf(With("/admin/address", "127.0.0.1:5222")),
            R"(admin.address: "127.0.0.1:5222" is also the address of listeners[1])");
}

TEST(ConfigLoaderTest, FixedListenerNeedsDomainAndService) {
  EXPECT_EQ(RejectionOf(Without("/listeners/1/domain")),
            "listeners[1].domain: required for a fixed listener");
  EXPECT_EQ(RejectionOf(Without("/listeners/1/service")),
            "listeners[1].service: required for a fixed listener");
}

class BadDomainTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BadDomainTest, IsRejectedForFixedListenersAndDnsHosts) {
  EXPECT_THAT(RejectionOf(With("/listeners/1/domain", GetParam())),
              StartsWith("listeners[1].domain: "));
  Json doc = Base();
  doc["dns"]["hosts"][GetParam()] = {"127.0.0.1"};
  EXPECT_THAT(RejectionOf(doc), StartsWith("dns.hosts["));
}

INSTANTIATE_TEST_SUITE_P(Domains, BadDomainTest,
                         ::testing::Values("127.0.0.1", "::1", "exa mple.org", "-a.org", "a-.org",
                                           "a..org", "under_score.org", ".", "",
                                           std::string(64, 'a') + ".org",
                                           // 254 characters, each label within 63
                                           std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                                               std::string(63, 'c') + "." + std::string(62, 'd')));

TEST(ConfigLoaderTest, FixedDomainMustBeAString) {
  EXPECT_THAT(RejectionOf(With("/listeners/1/domain", 1)), StartsWith("listeners[1].domain: "));
}

class BadServiceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BadServiceTest, IsRejectedForFixedListenersAndServices) {
  EXPECT_THAT(RejectionOf(With("/listeners/1/service", GetParam())),
              StartsWith("listeners[1].service: \"" + GetParam() + "\" is not a valid service"));
  Json doc = Base();
  doc["services"][GetParam()] = 1234;
  EXPECT_THAT(RejectionOf(doc), AllOf(StartsWith("services"), HasSubstr("not a valid service")));
}

INSTANTIATE_TEST_SUITE_P(Services, BadServiceTest,
                         ::testing::Values("", "1234", "-xmpp", "xmpp-", "xmpp--client",
                                           "abcdefghijklmnop", "xmpp_client", "xmpp.client"));

TEST(ConfigLoaderTest, FixedListenerPortRange) {
  EXPECT_EQ(MustParse(With("/listeners/1/port", 65535)).listeners[1].port,
            std::optional<uint16_t>(65535));
  EXPECT_EQ(RejectionOf(With("/listeners/1/port", 0)),
            "listeners[1].port: expected an integer from 1 to 65535, got 0");
  EXPECT_THAT(RejectionOf(With("/listeners/1/port", 65536)), StartsWith("listeners[1].port: "));
}

TEST(ConfigLoaderTest, FixedListenerTakesNoHeaderLimits) {
  EXPECT_EQ(RejectionOf(With("/listeners/1/max_header_bytes", 100)),
            "listeners[1].max_header_bytes: only connect listeners take max_header_bytes");
  EXPECT_THAT(RejectionOf(With("/listeners/1/header_timeout_ms", 100)),
              StartsWith("listeners[1].header_timeout_ms: "));
}

TEST(ConfigLoaderTest, ConnectListenerTakesNoTarget) {
  EXPECT_EQ(RejectionOf(With("/listeners/0/domain", "example.org")),
            "listeners[0].domain: only fixed listeners take a domain");
  EXPECT_EQ(RejectionOf(With("/listeners/0/service", "xmpp-client")),
            "listeners[0].service: only fixed listeners take a service");
  EXPECT_EQ(RejectionOf(With("/listeners/0/port", 5222)),
            "listeners[0].port: only fixed listeners take a port");
}

TEST(ConfigLoaderTest, PolicyNetworksAreCidrLists) {
  Config defaults = MustParse(Base());
  EXPECT_TRUE(defaults.policy.allowed_networks.empty()) << "the guard is on unless relaxed";
  EXPECT_TRUE(defaults.policy.denied_networks.empty());
  Config config = MustParse(With("/policy", {{"allowed_networks", {"127.0.0.0/8", "::1"}},
                                             {"denied_networks", {"203.0.113.0/24"}}}));
  ASSERT_EQ(config.policy.allowed_networks.size(), 2u);
  EXPECT_EQ(config.policy.allowed_networks[0].ToString(), "127.0.0.0/8");
  EXPECT_EQ(config.policy.allowed_networks[1].ToString(), "::1/128");
  ASSERT_EQ(config.policy.denied_networks.size(), 1u);
  EXPECT_EQ(config.policy.denied_networks[0].ToString(), "203.0.113.0/24");
}

TEST(ConfigLoaderTest, PolicyNetworkErrorsNameTheEntry) {
  EXPECT_EQ(RejectionOf(With("/policy/allowed_networks", {"10.0.0.0/8", "10.0.0.1/8"})),
            "policy.allowed_networks[1]: \"10.0.0.1/8\" is not a network: bits are set beyond "
            "the /8 prefix (did you mean 10.0.0.0/8?)");
  EXPECT_EQ(RejectionOf(With("/policy/denied_networks", "10.0.0.0/8")),
            "policy.denied_networks: expected a list of networks (\"10.0.0.0/8\"), got "
            "\"10.0.0.0/8\"");
  EXPECT_EQ(RejectionOf(With("/policy/denied_networks", {8})),
            "policy.denied_networks[0]: expected a network (\"10.0.0.0/8\"), got 8");
  EXPECT_EQ(RejectionOf(With("/policy/bogus", 1)), "policy.bogus: unknown key");
}

TEST(ConfigLoaderTest, GlobalMaxConnectionsIsFittedToDescriptorsUnlessSet) {
  EXPECT_FALSE(MustParse(Base()).limits.max_connections.has_value());
  EXPECT_EQ(MustParse(With("/limits/max_connections", 20000)).limits.max_connections, 20000u);
  EXPECT_THAT(RejectionOf(With("/limits/max_connections", 0)),
              StartsWith("limits.max_connections: "));
  EXPECT_EQ(RejectionOf(With("/limits/max_conns", 1)), "limits.max_conns: unknown key");
}

TEST(ConfigLoaderTest, WorkersDefaultToTheUsableCpusAndAreBounded) {
  EXPECT_FALSE(MustParse(Base()).workers.has_value());
  EXPECT_EQ(MustParse(With("/workers", 1)).workers, 1u);
  EXPECT_EQ(MustParse(With("/workers", kMaxWorkers)).workers, kMaxWorkers);
  for (const Json& bad : {Json(0), Json(kMaxWorkers + 1), Json(-2), Json(1.5), Json("4")}) {
    EXPECT_THAT(RejectionOf(With("/workers", bad)), StartsWith("workers: ")) << bad;
  }
}

TEST(ConfigLoaderTest, PolicyRulesKeepTheirOrderAndNormalizeTheirMatchers) {
  Config defaults = MustParse(Base());
  EXPECT_TRUE(defaults.policy.rules.empty());
  EXPECT_FALSE(defaults.policy.default_action.has_value());
  EXPECT_FALSE(defaults.policy.connect_ports.has_value());
  Config config = MustParse(With("/policy", {{"rules",
                                              {{{"name", "xmpp-from-lan"},
                                                {"action", "allow"},
                                                {"clients", {"10.0.0.0/8"}},
                                                {"listeners", {"connect"}},
                                                {"domains", {"Example.ORG.", "*.Example.com"}},
                                                {"services", {"XMPP-Client"}},
                                                {"ports", {5222, "5269-5270"}}},
                                               {{"name", "rest"}, {"action", "deny"}}}},
                                             {"default", "allow"},
                                             {"connect_ports", {443, "5222-5223"}}}));
  ASSERT_EQ(config.policy.rules.size(), 2u);
  const PolicyRule& first = config.policy.rules[0];
  EXPECT_EQ(first.name, "xmpp-from-lan");
  EXPECT_EQ(first.action, PolicyAction::kAllow);
  ASSERT_TRUE(first.clients.has_value());
  EXPECT_EQ((*first.clients)[0].ToString(), "10.0.0.0/8");
  EXPECT_EQ(first.domains, (std::vector<std::string>{"example.org", "*.example.com"}));
  EXPECT_EQ(first.services, std::vector<std::string>{"xmpp-client"});
  ASSERT_TRUE(first.ports.has_value());
  EXPECT_EQ((*first.ports)[1].first, 5269);
  EXPECT_EQ((*first.ports)[1].last, 5270);
  const PolicyRule& rest = config.policy.rules[1];
  EXPECT_EQ(rest.action, PolicyAction::kDeny);
  EXPECT_FALSE(rest.clients || rest.users || rest.identities || rest.listeners || rest.domains ||
               rest.services || rest.ports)
      << "a rule without matchers matches every request";
  EXPECT_EQ(config.policy.default_action, PolicyAction::kAllow);
  ASSERT_TRUE(config.policy.connect_ports.has_value());
  EXPECT_EQ(config.policy.connect_ports->size(), 2u);
}

TEST(ConfigLoaderTest, PolicyRuleErrorsNameTheRuleAndTheMatcher) {
  auto rule = [](Json extra) {
    Json one = {{"name", "r"}, {"action", "deny"}};
    one.update(extra);
    return With("/policy/rules", Json::array({one}));
  };
  EXPECT_EQ(RejectionOf(With("/policy/rules", {{{"action", "deny"}}})),
            "policy.rules[0].name: required");
  EXPECT_EQ(RejectionOf(With("/policy/rules", {{{"name", "r"}}})),
            "policy.rules[0].action: required");
  EXPECT_EQ(RejectionOf(rule({{"action", "block"}})),
            "policy.rules[0].action: expected \"allow\" or \"deny\", got \"block\"");
  EXPECT_THAT(RejectionOf(rule({{"name", "has space"}})),
              StartsWith("policy.rules[0].name: \"has space\" is not a rule name"));
  EXPECT_THAT(RejectionOf(rule({{"name", "default"}})),
              StartsWith("policy.rules[0].name: \"default\" is reserved"));
  EXPECT_THAT(RejectionOf(rule({{"name", "connect_ports"}})),
              StartsWith("policy.rules[0].name: \"connect_ports\" is reserved"));
  EXPECT_EQ(RejectionOf(With("/policy/rules", {{{"name", "r"}, {"action", "deny"}},
                                               {{"name", "r"}, {"action", "allow"}}})),
            "policy.rules[1].name: \"r\" names another rule too");
  EXPECT_EQ(RejectionOf(rule({{"domains", Json::array()}})),
            "policy.rules[0].domains: expected a non-empty list of domains, got []");
  EXPECT_THAT(RejectionOf(rule({{"domains", {"ex*ample.org"}}})),
              StartsWith("policy.rules[0].domains[0]: \"ex*ample.org\": a wildcard is only"));
  EXPECT_THAT(RejectionOf(rule({{"domains", {"*.bad_name"}}})),
              StartsWith("policy.rules[0].domains[0]: "));
  EXPECT_THAT(RejectionOf(rule({{"services", {"not a service"}}})),
              StartsWith("policy.rules[0].services[0]: \"not a service\" is not a valid service"));
  EXPECT_EQ(RejectionOf(rule({{"ports", {"9000-8000"}}})),
            "policy.rules[0].ports[0]: expected a port (443) or a range (\"8000-8999\"), got "
            "\"9000-8000\"");
  EXPECT_THAT(RejectionOf(rule({{"ports", {0}}})), StartsWith("policy.rules[0].ports[0]: "));
  EXPECT_THAT(RejectionOf(rule({{"clients", {"10.0.0.1/8"}}})),
              StartsWith("policy.rules[0].clients[0]: "));
  EXPECT_THAT(RejectionOf(rule({{"identities", {"spiffe://*"}}})),
              StartsWith("policy.rules[0].identities[0]: \"spiffe://*\": '*' is only allowed"));
  EXPECT_THAT(RejectionOf(rule({{"identities", {"spiffe://td/ns/*/sa"}}})),
              StartsWith("policy.rules[0].identities[0]: "));
  // Matchers no client can satisfy yet are refused rather than left never to match.
  EXPECT_EQ(RejectionOf(rule({{"users", {"alice"}}})),
            "policy.rules[0].users: no listener this rule applies to has auth, so this could "
            "never match");
  EXPECT_EQ(RejectionOf(rule({{"identities", {"spiffe://cluster.local/*"}}})),
            "policy.rules[0].identities: no listener this rule applies to has "
            "tls.client_ca_file, so this could never match");
  EXPECT_EQ(RejectionOf(rule({{"clients", {"::ffff:10.0.0.0/104"}}})),
            "policy.rules[0].clients[0]: ::ffff:10.0.0.0/104 is IPv4-mapped; write the IPv4 "
            "network: a mapped client address is matched as the IPv4 address it carries");
  EXPECT_EQ(RejectionOf(rule({{"listeners", {"nope"}}})),
            "policy.rules[0].listeners[0]: \"nope\" is not the name of a listener");
  EXPECT_EQ(RejectionOf(rule({{"hosts", {"x"}}})), "policy.rules[0].hosts: unknown key");
  EXPECT_EQ(RejectionOf(With("/policy/default", "maybe")),
            "policy.default: expected \"allow\" or \"deny\", got \"maybe\"");
  EXPECT_THAT(RejectionOf(With("/policy/connect_ports", {"https"})),
              StartsWith("policy.connect_ports[0]: expected a port"));
}

TEST(ConfigLoaderTest, DnsHostsKeysAreNormalized) {
  const Config config = MustParse(With("/dns/hosts", {{"WWW.Example.ORG.", {"127.0.0.9"}}}));
  EXPECT_EQ(config.dns.hosts.count("www.example.org"), 1u);
  EXPECT_EQ(config.dns.hosts.size(), 1u);
}

TEST(ConfigLoaderTest, DnsHostsKeysMustBeDistinctAfterNormalizing) {
  EXPECT_THAT(RejectionOf(With("/dns/hosts",
                               {{"example.org", {"127.0.0.2"}}, {"Example.org.", {"127.0.0.3"}}})),
              HasSubstr("names the same domain as"));
}

TEST(ConfigLoaderTest, DnsHostsValuesMustBeIpLists) {
  EXPECT_THAT(RejectionOf(With("/dns/hosts", {{"example.org", "127.0.0.2"}})),
              StartsWith("dns.hosts[\"example.org\"]: expected a non-empty list"));
  EXPECT_THAT(RejectionOf(With("/dns/hosts", {{"example.org", Json::array()}})),
              StartsWith("dns.hosts[\"example.org\"]: expected a non-empty list"));
  EXPECT_EQ(RejectionOf(With("/dns/hosts", {{"example.org", {"127.0.0.2", "localhost"}}})),
            R"(dns.hosts["example.org"][1]: expected an IPv4 or IPv6 address, got "localhost")");
  EXPECT_THAT(RejectionOf(With("/dns/hosts", {{"example.org", {"[::1]"}}})),
              StartsWith("dns.hosts[\"example.org\"][0]: "));
  EXPECT_THAT(RejectionOf(With("/dns/hosts", {{"example.org", {2130706433}}})),
              StartsWith("dns.hosts[\"example.org\"][0]: "));
}

TEST(ConfigLoaderTest, ServicePortRange) {
  EXPECT_EQ(MustParse(With("/services", {{"a", 1}, {"b", 65535}})).services.at("b"), 65535);
  EXPECT_EQ(RejectionOf(With("/services", {{"xmpp-client", 0}})),
            "services.xmpp-client: expected an integer from 1 to 65535, got 0");
  EXPECT_THAT(RejectionOf(With("/services", {{"xmpp-client", 65536}})),
              StartsWith("services.xmpp-client: "));
  EXPECT_THAT(RejectionOf(With("/services", {{"xmpp-client", "5222"}})),
              StartsWith("services.xmpp-client: "));
}

// TempFile is a file under the test temp directory, removed when the test ends.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    path_ = ::testing::TempDir() + "deputy_config_XXXXXX";
    const int fd = mkstemp(path_.data());
    EXPECT_GE(fd, 0);
    close(fd);
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ConfigLoaderTest, LoadConfigReadsAFile) {
  const TempFile file(kIssueExample);
  Result<Config> config = LoadConfig(file.path());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->listeners.size(), 2u);
}

TEST(ConfigLoaderTest, LoadConfigMissingFileNamesThePath) {
  const std::string path = ::testing::TempDir() + "deputy_no_such_config.json";
  Result<Config> config = LoadConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), ErrorCode::kInvalidConfig);
  EXPECT_THAT(config.status().message(), StartsWith(path + ": cannot open: "));
}

TEST(ConfigLoaderTest, LoadConfigOfADirectoryFails) {
  Result<Config> config = LoadConfig(::testing::TempDir());
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), StartsWith(::testing::TempDir() + ": "));
}

TEST(ConfigLoaderTest, LoadConfigErrorsStartWithThePath) {
  const TempFile syntax("{\n,");
  EXPECT_THAT(LoadConfig(syntax.path()).status().message(),
              StartsWith(syntax.path() + ": JSON syntax error at line 2, column 1: "));
  const TempFile unknown(With("/discovery/bogus", 1).dump());
  EXPECT_EQ(LoadConfig(unknown.path()).status().message(),
            unknown.path() + ": discovery.bogus: unknown key");
  const TempFile scalar("3");
  EXPECT_EQ(LoadConfig(scalar.path()).status().message(),
            scalar.path() + ": expected an object, got 3");
}

TEST(ConfigLoaderTest, CheckFilesReadableAcceptsReadableFiles) {
  const TempFile ca("-----BEGIN CERTIFICATE-----\n");
  Config config;
  config.discovery.ca_file = ca.path();
  config.upstream.ca_file = ca.path();
  EXPECT_TRUE(CheckFilesReadable(config).ok()) << CheckFilesReadable(config).ToString();
}

TEST(ConfigLoaderTest, CheckFilesReadableNamesTheMissingFile) {
  const TempFile ca("pem");
  Config config;
  config.discovery.ca_file = "/no/such/discovery.pem";
  config.upstream.ca_file = ca.path();
  Status status = CheckFilesReadable(config);
  EXPECT_EQ(status.code(), ErrorCode::kInvalidConfig);
  EXPECT_THAT(status.message(),
              StartsWith("discovery.ca_file: \"/no/such/discovery.pem\" cannot be opened: "));

  config.discovery.ca_file = ca.path();
  config.upstream.ca_file = "/no/such/upstream.pem";
  status = CheckFilesReadable(config);
  EXPECT_THAT(status.message(),
              StartsWith("upstream.ca_file: \"/no/such/upstream.pem\" cannot be opened: "));
}

TEST(ConfigLoaderTest, CheckFilesReadableRejectsEmptyFilesAndDirectories) {
  const TempFile empty("");
  Config config;
  config.discovery.ca_file = empty.path();
  EXPECT_THAT(CheckFilesReadable(config).message(), HasSubstr("is empty"));
  config.discovery.ca_file = ::testing::TempDir();
  EXPECT_THAT(CheckFilesReadable(config).message(),
              AllOf(StartsWith("discovery.ca_file: "), HasSubstr("cannot be read")));
}

TEST(ConfigLoaderTest, ListenerAuthIsReadAndChecked) {
  Json doc = With("/listeners/0/auth", {{"type", "basic"}, {"users_file", "/etc/deputy/users"}});
  doc["auth"] = {{"max_failures", 3}, {"cache_ttl_s", 0}, {"max_checks_waiting", 0}};
  const Config config = MustParse(doc);
  ASSERT_TRUE(config.listeners[0].auth.has_value());
  EXPECT_EQ(config.listeners[0].auth->users_file, "/etc/deputy/users");
  EXPECT_EQ(config.listeners[0].auth->realm, "deputy");
  EXPECT_FALSE(config.listeners[1].auth.has_value());
  EXPECT_EQ(config.auth.max_failures, 3u);
  EXPECT_EQ(config.auth.failure_window_s, 60u);
  EXPECT_EQ(config.auth.cache_ttl_s, 0u);
  EXPECT_EQ(config.auth.max_checks_running, 2u);
  EXPECT_EQ(config.auth.max_checks_waiting, 0u);

  EXPECT_EQ(RejectionOf(With("/listeners/0/auth", {{"users_file", "u"}})),
            "listeners[0].auth.type: required: \"basic\"");
  EXPECT_THAT(RejectionOf(With("/listeners/0/auth", {{"type", "digest"}, {"users_file", "u"}})),
              StartsWith("listeners[0].auth.type: "));
  EXPECT_EQ(RejectionOf(With("/listeners/0/auth", {{"type", "basic"}})),
            "listeners[0].auth.users_file: required: a file of user:hash lines");
  EXPECT_EQ(RejectionOf(With("/listeners/0/auth", {{"type", "basic"}, {"users_file", ""}})),
            "listeners[0].auth.users_file: expected a non-empty string, got \"\"");
  EXPECT_EQ(RejectionOf(With("/listeners/0/auth",
                             {{"type", "basic"}, {"users_file", "u"}, {"realm", "a\"b"}})),
            "listeners[0].auth.realm: \"a\\\"b\" is not 1-64 printable ASCII characters "
            "without '\"' or '\\'");
  EXPECT_EQ(RejectionOf(With("/listeners/1/auth", {{"type", "basic"}, {"users_file", "u"}})),
            "listeners[1].auth: a fixed listener's client sends no credentials; use a connect or "
            "socks5 listener");
  EXPECT_EQ(RejectionOf(With("/auth", {{"max_checks_running", 0}})),
            "auth.max_checks_running: expected a positive integer, got 0");
}

TEST(ConfigLoaderTest, AUsersRuleNeedsAListenerWithAuthItAppliesTo) {
  Json doc = With("/listeners/0/auth", {{"type", "basic"}, {"users_file", "u"}});
  doc["policy"] = {{"rules", {{{"name", "staff"}, {"action", "allow"}, {"users", {"alice"}}}}}};
  EXPECT_EQ(MustParse(doc).policy.rules[0].users, std::vector<std::string>{"alice"});
  doc["policy"]["rules"][0]["listeners"] = {"xmpp"};
  EXPECT_EQ(RejectionOf(doc),
            "policy.rules[0].users: no listener this rule applies to has auth, so this could "
            "never match");
}

TEST(ConfigLoaderTest, AnyListenerMaySpeakTlsToItsClients) {
  Json doc = With("/listeners/0/tls", {{"cert_file", "/etc/deputy/proxy.pem"},
                                       {"key_file", "/etc/deputy/proxy.key"},
                                       {"client_ca_file", "/etc/deputy/clients.pem"},
                                       {"min_version", "1.3"}});
  doc["listeners"][1]["tls"] = {
      {"cert_file", "c"}, {"key_file", "k"}, {"handshake_timeout_ms", 500}};
  const Config config = MustParse(doc);
  ASSERT_TRUE(config.listeners[0].tls.has_value());
  const ListenerTlsConfig& tls = *config.listeners[0].tls;
  EXPECT_EQ(tls.cert_file, "/etc/deputy/proxy.pem");
  EXPECT_EQ(tls.key_file, "/etc/deputy/proxy.key");
  EXPECT_EQ(tls.client_ca_file, "/etc/deputy/clients.pem");
  EXPECT_TRUE(tls.require_client_cert) << "a client CA means a certificate is required";
  EXPECT_EQ(tls.min_version, TlsVersion::kTls13);
  EXPECT_EQ(tls.handshake_timeout_ms, 10000u);
  ASSERT_TRUE(config.listeners[1].tls.has_value()) << "fixed listeners take tls too";
  EXPECT_EQ(config.listeners[1].tls->handshake_timeout_ms, 500u);
  EXPECT_TRUE(config.listeners[1].tls->client_ca_file.empty());
  EXPECT_FALSE(MustParse(Base()).listeners[0].tls.has_value());

  EXPECT_EQ(RejectionOf(With("/listeners/0/tls", {{"key_file", "k"}})),
            "listeners[0].tls.cert_file: required: the PEM certificate chain");
  EXPECT_EQ(RejectionOf(With("/listeners/0/tls", {{"cert_file", "c"}})),
            "listeners[0].tls.key_file: required: the PEM private key");
  EXPECT_EQ(
      RejectionOf(With("/listeners/0/tls",
                       {{"cert_file", "c"}, {"key_file", "k"}, {"require_client_cert", true}})),
      "listeners[0].tls.require_client_cert: only with client_ca_file: the CAs that issue "
      "client certificates");
  EXPECT_THAT(RejectionOf(With("/listeners/0/tls",
                               {{"cert_file", "c"}, {"key_file", "k"}, {"min_version", "1.1"}})),
              StartsWith("listeners[0].tls.min_version: expected \"1.2\" or \"1.3\""));
  EXPECT_EQ(
      RejectionOf(With("/listeners/0/tls", {{"cert_file", "c"}, {"key_file", "k"}, {"sni", 1}})),
      "listeners[0].tls.sni: unknown key");
}

TEST(ConfigLoaderTest, AnIdentitiesRuleNeedsAListenerWithAClientCaItAppliesTo) {
  Json doc = With("/listeners/0/tls", {{"cert_file", "c"}, {"key_file", "k"}});
  doc["policy"] = {
      {"rules",
       {{{"name", "mesh"}, {"action", "allow"}, {"identities", {"spiffe://cluster.local/*"}}}}}};
  EXPECT_THAT(RejectionOf(doc), StartsWith("policy.rules[0].identities: no listener"))
      << "TLS without client certificates gives no identities";
  doc["listeners"][0]["tls"]["client_ca_file"] = "ca";
  EXPECT_EQ(MustParse(doc).policy.rules[0].identities,
            std::vector<std::string>{"spiffe://cluster.local/*"});
  doc["policy"]["rules"][0]["listeners"] = {"xmpp"};
  EXPECT_THAT(RejectionOf(doc), StartsWith("policy.rules[0].identities: no listener"));
}

TEST(ConfigLoaderTest, ASocks5ListenerTakesATimeoutAndAuthOnly) {
  Json doc = Base();
  doc["listeners"].push_back({{"name", "socks"},
                              {"type", "socks5"},
                              {"address", "127.0.0.1:1080"},
                              {"header_timeout_ms", 3000},
                              {"auth", {{"type", "basic"}, {"users_file", "u"}}}});
  const Config config = MustParse(doc);
  ASSERT_EQ(config.listeners.size(), 3u);
  EXPECT_EQ(config.listeners[2].type, ListenerType::kSocks5);
  EXPECT_EQ(config.listeners[2].header_timeout_ms, 3000u);
  ASSERT_TRUE(config.listeners[2].auth.has_value());

  Json with_domain = Base();
  with_domain["listeners"].push_back(
      {{"name", "socks"}, {"type", "socks5"}, {"address", "127.0.0.1:1080"}, {"domain", "a.b"}});
  EXPECT_EQ(RejectionOf(with_domain), "listeners[2].domain: only fixed listeners take a domain");
  Json with_head = Base();
  with_head["listeners"].push_back({{"name", "socks"},
                                    {"type", "socks5"},
                                    {"address", "127.0.0.1:1080"},
                                    {"max_header_bytes", 100}});
  EXPECT_EQ(RejectionOf(with_head),
            "listeners[2].max_header_bytes: SOCKS messages have fixed sizes");
}

TEST(ConfigLoaderTest, ProxyProtocolNeedsTheBalancersNetworks) {
  Json doc = With("/listeners/0/proxy_protocol", true);
  doc["listeners"][0]["proxy_protocol_from"] = {"10.0.0.0/8", "fd00::/8"};
  const Config config = MustParse(doc);
  EXPECT_TRUE(config.listeners[0].proxy_protocol);
  ASSERT_EQ(config.listeners[0].proxy_protocol_from.size(), 2u);
  EXPECT_FALSE(config.listeners[1].proxy_protocol);

  EXPECT_EQ(RejectionOf(With("/listeners/0/proxy_protocol", true)),
            "listeners[0].proxy_protocol_from: required with proxy_protocol: the networks of the "
            "load balancers");
  EXPECT_EQ(RejectionOf(With("/listeners/1/proxy_protocol_from", Json::array({"10.0.0.0/8"}))),
            "listeners[1].proxy_protocol_from: only with \"proxy_protocol\": true");
  Json bad = With("/listeners/0/proxy_protocol", true);
  bad["listeners"][0]["proxy_protocol_from"] = {"10.0.0.1/8"};
  EXPECT_THAT(RejectionOf(bad), StartsWith("listeners[0].proxy_protocol_from[0]: "));
}
}  // namespace
}  // namespace deputy
