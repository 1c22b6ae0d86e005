#include "config/services_db.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace deputy {
namespace {

// EtcServicesHas reports whether /etc/services pairs `name` with `port`/tcp as its main name, so
// the system-database tests run only where the machine's file has the entry they rely on.
bool EtcServicesHas(const std::string& name, uint16_t port) {
  std::ifstream file("/etc/services");
  const std::string wanted = std::to_string(port) + "/tcp";
  std::string line;
  while (std::getline(file, line)) {
    std::istringstream fields(line);
    std::string first;
    std::string second;
    if (fields >> first >> second && first == name && second == wanted) return true;
  }
  return false;
}

Config WithServices(std::map<std::string, uint16_t> services) {
  Config config;
  config.services = std::move(services);
  return config;
}

TEST(ServicesDbTest, ConfigMapsBothWays) {
  const Config config = WithServices({{"my-service", 40001}});
  EXPECT_EQ(ServiceForPort(40001, config), std::optional<std::string>("my-service"));
  EXPECT_EQ(PortForService("my-service", config), std::optional<uint16_t>(40001));
}

TEST(ServicesDbTest, SystemDatabaseMapsBothWays) {
  if (!EtcServicesHas("https", 443)) GTEST_SKIP() << "/etc/services has no https 443/tcp";
  const Config config;
  EXPECT_EQ(ServiceForPort(443, config), std::optional<std::string>("https"));
  EXPECT_EQ(PortForService("https", config), std::optional<uint16_t>(443));
}

TEST(ServicesDbTest, SystemDatabaseKnowsXmpp) {
  if (!EtcServicesHas("xmpp-client", 5222)) GTEST_SKIP() << "/etc/services has no xmpp-client";
  EXPECT_EQ(ServiceForPort(5222, Config{}), std::optional<std::string>("xmpp-client"));
  EXPECT_EQ(PortForService("xmpp-client", Config{}), std::optional<uint16_t>(5222));
}

TEST(ServicesDbTest, ConfigWinsOverTheSystemForAPort) {
  if (!EtcServicesHas("https", 443)) GTEST_SKIP() << "/etc/services has no https 443/tcp";
  EXPECT_EQ(ServiceForPort(443, WithServices({{"web", 443}})), std::optional<std::string>("web"));
}

TEST(ServicesDbTest, ConfigWinsOverTheSystemForAName) {
  if (!EtcServicesHas("https", 443)) GTEST_SKIP() << "/etc/services has no https 443/tcp";
  const Config config = WithServices({{"https", 8443}});
  EXPECT_EQ(PortForService("https", config), std::optional<uint16_t>(8443));
  EXPECT_EQ(ServiceForPort(8443, config), std::optional<std::string>("https"));
  // The config moved https away from 443, so 443 no longer names it.
  EXPECT_EQ(ServiceForPort(443, config), std::nullopt);
}

TEST(ServicesDbTest, SeveralConfigNamesOnOnePortPickTheFirstAlphabetically) {
  EXPECT_EQ(ServiceForPort(40002, WithServices({{"zeta", 40002}, {"alpha", 40002}})),
            std::optional<std::string>("alpha"));
}

TEST(ServicesDbTest, UnknownPortAndNameGiveNothing) {
  // 65534 is not in the IANA registry; a name of 15 letters nobody registers.
  EXPECT_EQ(ServiceForPort(65534, Config{}), std::nullopt);
  EXPECT_EQ(PortForService("zzzdeputytestzz", Config{}), std::nullopt);
}

TEST(ServicesDbTest, InvalidServiceNamesAreNotLookedUp) {
  const Config config = WithServices({{"https", 8443}});
  EXPECT_EQ(PortForService("", config), std::nullopt);
  EXPECT_EQ(PortForService("https/tcp", config), std::nullopt);
  EXPECT_EQ(PortForService("-https", config), std::nullopt);
}

TEST(ServicesDbTest, ComparesNamesIgnoringCase) {
  EXPECT_EQ(PortForService("My-Service", WithServices({{"my-service", 40003}})), 40003);
}

constexpr char kSystem[] = "http 80/tcp www\nhttps 443/tcp\nxmpp-client 5222/tcp jabber-client\n";

// The mapping over an injected table, independent of the machine's /etc/services.
TEST(ServicesDbTest, ConfigComesBeforeAnInjectedSystemTable) {
  const ServicesTable system = ServicesTable::Parse(kSystem);
  Config config;
  config.services = {{"https", 8443}, {"mine", 80}};
  EXPECT_EQ(PortForService("HTTPS", config, system), std::optional<uint16_t>(8443));
  EXPECT_EQ(PortForService("www", config, system), std::optional<uint16_t>(80));
  EXPECT_EQ(PortForService("Jabber-Client", config, system), std::optional<uint16_t>(5222));
  EXPECT_EQ(ServiceForPort(80, config, system), std::optional<std::string>("mine"));
  EXPECT_EQ(ServiceForPort(5222, config, system), std::optional<std::string>("xmpp-client"));
  // The config moved https to 8443, so 443 names nothing.
  EXPECT_EQ(ServiceForPort(443, config, system), std::nullopt);
  EXPECT_EQ(ServiceForPort(7000, Config{}, ServicesTable::Parse("My_Svc 7000/tcp\n")),
            std::nullopt);
  EXPECT_EQ(ServiceForPort(7000, Config{}, ServicesTable::Parse("My-Svc 7000/tcp\n")),
            std::optional<std::string>("my-svc"));
  EXPECT_EQ(PortForService("https", Config{}, ServicesTable()), std::nullopt);
}

TEST(ServicesDbTest, LookupsFromManyThreadsAgree) {
  if (!EtcServicesHas("https", 443)) GTEST_SKIP() << "/etc/services has no https 443/tcp";
  constexpr int kThreads = 4;
  constexpr int kRounds = 200;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  const Config config;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        if (ServiceForPort(443, config) != std::optional<std::string>("https")) ++mismatches[t];
        if (PortForService("https", config) != std::optional<uint16_t>(443)) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(kThreads, 0));
}

}  // namespace
}  // namespace deputy
