// The effective configuration (admin's /debug/config) is a config file deputy reads back to the
// same configuration, every key the loader knows and every default included.
#include "config/config_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "config/config_loader.h"

namespace deputy {
namespace {

using Json = nlohmann::json;

Config Parse(const Json& document) {
  Result<Config> config = ParseConfig(document.dump());
  EXPECT_TRUE(config.ok()) << config.status().ToString() << "\n" << document.dump(2);
  return config.ok() ? std::move(config).value() : Config{};
}

// ExpectShown expects every value of `file` in `effective` at the same place (an array element
// by element), so a setting the writer leaves out fails here.
void ExpectShown(const Json& file, const Json& effective, const std::string& path = "") {
  if (file.is_object()) {
    ASSERT_TRUE(effective.is_object()) << path;
    for (const auto& [key, value] : file.items()) {
      ASSERT_TRUE(effective.contains(key)) << path << "." << key << " is not shown";
      ExpectShown(value, effective[key], path + "." + key);
    }
  } else if (file.is_array() && !file.empty() && file[0].is_object()) {
    ASSERT_TRUE(effective.is_array() && effective.size() == file.size()) << path;
    for (size_t i = 0; i < file.size(); ++i) {
      ExpectShown(file[i], effective[i], path + "[" + std::to_string(i) + "]");
    }
  } else {
    EXPECT_EQ(effective, file) << path;
  }
}

TEST(ConfigWriterTest, EveryKindOfSettingReadsBackToTheSameConfiguration) {
  const Json file = {
      {"workers", 3},
      {"limits", {{"max_connections", 900}}},
      {"log", {{"level", "debug"}, {"format", "json"}}},
      {"access_log", {{"path", "/var/log/deputy/access.log"}}},
      {"auth", {{"max_failures", 4}, {"cache_ttl_s", 0}}},
      {"admin", {{"address", "127.0.0.1:9090"}, {"token_file", "/etc/deputy/token"}}},
      {"listeners",
       {{{"name", "connect"},
         {"type", "connect"},
         {"address", "127.0.0.1:3128"},
         {"max_header_bytes", 4096},
         {"auth", {{"type", "basic"}, {"users_file", "/etc/deputy/users"}, {"realm", "egress"}}},
         {"proxy_protocol", true},
         {"proxy_protocol_from", {"10.0.0.0/8"}}},
        {{"name", "socks"}, {"type", "socks5"}, {"address", "[::1]:1080"}},
        {{"name", "xmpp"},
         {"type", "fixed"},
         {"address", "127.0.0.1:5222"},
         {"domain", "example.org"},
         {"service", "xmpp-client"},
         {"port", 5223},
         {"tls",
          {{"cert_file", "/etc/deputy/cert.pem"},
           {"key_file", "/etc/deputy/key.pem"},
           {"client_ca_file", "/etc/deputy/clients.pem"},
           {"require_client_cert", false},
           {"min_version", "1.3"}}}}}},
      {"discovery", {{"sources", {"srv", "well-known"}}, {"min_ttl_s", 0}, {"max_redirects", 0}}},
      {"upstream", {{"min_tls_version", "1.3"}, {"allow_truncation", true}}},
      {"dns",
       {{"hosts", {{"xmpp.example.com", {"127.0.0.1", "::1"}}}},
        {"timeout_ms", 900},
        {"servers", {"127.0.0.53:53", "[::1]:5300"}},
        {"attempts", 3}}},
      {"policy",
       {{"allowed_networks", {"127.0.0.0/8"}},
        {"denied_networks", {"203.0.113.0/24"}},
        {"default", "deny"},
        {"connect_ports", {443, "5222-5223"}},
        {"rules",
         {{{"name", "office"},
           {"action", "allow"},
           {"clients", {"10.1.0.0/16"}},
           {"users", {"alice"}},
           {"listeners", {"connect"}},
           {"domains", {"*.example.org"}},
           {"services", {"xmpp-client"}},
           {"ports", {"5222-5223", 443}}}}}}},
      {"services", {{"xmpp-client", 5222}}},
  };
  const Json effective = EffectiveConfig(Parse(file));
  ExpectShown(file, effective);
  EXPECT_EQ(EffectiveConfig(Parse(effective)), effective);
  EXPECT_EQ(effective["discovery"]["url_template"],
            "https://{domain}/.well-known/service/{service}")
      << "a default left out of the file is shown";
  EXPECT_EQ(effective["listeners"][2]["tls"]["handshake_timeout_ms"], 10000);
  EXPECT_EQ(effective["policy"]["rules"][0]["ports"], Json({"5222-5223", 443}));
  EXPECT_EQ(effective["admin"]["token_file"], "/etc/deputy/token")
      << "the file is named; its token is never read here";
}

TEST(ConfigWriterTest, AMinimalFileShowsEveryDefault) {
  const Json effective = EffectiveConfig(
      Parse({{"listeners",
              {{{"name", "connect"}, {"type", "connect"}, {"address", "127.0.0.1:3128"}}}}}));
  EXPECT_EQ(EffectiveConfig(Parse(effective)), effective);
  EXPECT_EQ(effective["upstream"]["buffer_bytes"], 65536);
  EXPECT_EQ(effective["discovery"]["cache_max_entries"], 10000);
  EXPECT_EQ(effective["log"]["format"], "text");
  EXPECT_FALSE(effective.contains("workers")) << "absent: one per CPU";
  EXPECT_FALSE(effective.contains("access_log")) << "absent: stdout";
}

}  // namespace
}  // namespace deputy
