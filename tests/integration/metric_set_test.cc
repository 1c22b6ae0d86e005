// Through a real deputy that has served nobody yet: /metrics already carries every series a
// dashboard or an alert needs at 0 (so rate() and absent-series alerts work before the first
// failure), says which build it is, and reports the process's own resources under the standard
// process_* names, with values that match what /proc says about that deputy.
#include <gtest/gtest.h>
#include <openssl/base.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "base/status.h"
#include "integration/world.h"
#include "support/client.h"
#include "support/metric_wait.h"

namespace deputy::test {
namespace {

class MetricSetTest : public ::testing::Test {
 protected:
  std::string Scrape() {
    auto metrics = HttpGet(world_.deputy->Port("admin"), "/metrics");
    EXPECT_TRUE(metrics.has_value());
    if (!metrics) return "";
    EXPECT_EQ(metrics->head.status, 200);
    return metrics->body;
  }

  World world_;
};

TEST_F(MetricSetTest, AFreshDeputyHasEveryKnownSeriesAtZero) {
  world_.config["listeners"].push_back(
      {{"name", "socks"}, {"type", "socks5"}, {"address", "127.0.0.1:0"}});
  world_.StartDeputy();
  const std::string text = Scrape();
  for (const char* listener : {"connect", "socks"}) {
    const std::string labels = std::string("{listener=\"") + listener + "\"";
    EXPECT_EQ(MetricValue(text, "deputy_connections_total" + labels + "}"), 0) << listener;
    EXPECT_EQ(MetricValue(text, "deputy_connections_active" + labels + "}"), 0) << listener;
    // Every result a session can end with, the error table's labels, on every listener.
    for (size_t code = 0; code <= static_cast<size_t>(ErrorCode::kInternal); ++code) {
      const std::string sample = "deputy_tunnels_total" + labels + ",result=\"" +
                                 std::string(Describe(static_cast<ErrorCode>(code)).label) + "\"}";
      EXPECT_EQ(MetricValue(text, sample), 0) << sample << "\n" << text;
    }
  }
  for (const char* status : {"200", "404", "410", "error", "invalid", "cancelled"}) {
    const std::string sample =
        std::string("deputy_delegation_fetches_total{status=\"") + status + "\"}";
    EXPECT_EQ(MetricValue(text, sample), 0) << sample;
  }
  EXPECT_EQ(MetricValue(text, std::string("deputy_build_info{boringssl=\"") +
                                  std::to_string(BORINGSSL_API_VERSION) + "\",version=\"" +
                                  DEPUTY_VERSION + "\"}"),
            1)
      << text;
}

TEST_F(MetricSetTest, ASessionIsCountedInEachPhaseItPassesAndTimed) {
  auto echo = world_.EchoServer({"example.com"});
  world_.PublishTarget("xmpp-client", echo->port());
  DeputyProcess& deputy = world_.StartDeputy();
  const uint16_t admin = deputy.Port("admin");
  auto in_phase = [&](const char* phase) {
    return ScrapeMetric(
        admin, std::string("deputy_sessions_active{listener=\"connect\",phase=\"") + phase + "\"}");
  };
  for (const char* phase : {"handshake", "request", "lookup", "connect", "tunnel", "closing"}) {
    EXPECT_EQ(in_phase(phase), 0) << phase;
  }
  {
    World::Opened tunnel = world_.OpenTunnel("example.org:xmpp-client");
    ASSERT_EQ(tunnel.head->status, 200);
    EXPECT_EQ(in_phase("tunnel"), 1);
    EXPECT_EQ(in_phase("connect"), 0);
    ASSERT_TRUE(SendAll(tunnel.socket.fd(), "12345"));
    EXPECT_EQ(tunnel.head->extra + RecvExact(tunnel.socket.fd(), 5).data, "12345");
  }
  // Refused: the client reads the 400 while deputy lingers, in the closing phase.
  ASSERT_EQ(world_.OpenTunnel("example.org:bad_service").head->status, 400);
  ASSERT_TRUE(deputy.WaitForAccessLogLines(2));

  std::map<std::string, nlohmann::json> by_result;
  for (const nlohmann::json& line : deputy.AccessLog()) by_result[line["result"]] = line;
  const nlohmann::json& ok = by_result["ok"]["phase_ms"];
  for (const char* phase : {"request", "lookup", "connect", "tunnel"}) {
    ASSERT_TRUE(ok.contains(phase)) << phase << " " << ok;
    EXPECT_GE(ok[phase].get<double>(), 0) << phase;
  }
  EXPECT_FALSE(ok.contains("handshake")) << "a plain listener has no handshake: " << ok;
  EXPECT_FALSE(ok.contains("closing")) << ok;
  double spent = 0;
  for (const auto& [phase, ms] : ok.items()) spent += ms.get<double>();
  EXPECT_LE(spent, by_result["ok"]["duration_ms"].get<double>() + 1);
  const nlohmann::json& refused = by_result["bad_request"]["phase_ms"];
  EXPECT_TRUE(refused.contains("request")) << refused;
  EXPECT_TRUE(refused.contains("closing")) << refused;
  EXPECT_FALSE(refused.contains("lookup")) << refused;

  auto metrics = HttpGet(admin, "/metrics");
  ASSERT_TRUE(metrics);
  const std::string& text = metrics->body;
  for (const char* one :
       {"deputy_upstream_dns_seconds_count", "deputy_upstream_connect_seconds_count",
        "deputy_upstream_handshake_seconds_count", "deputy_delegation_lookup_seconds_count",
        "deputy_tunnel_duration_seconds_count", "deputy_time_to_first_byte_seconds_count",
        "deputy_tunnel_bytes_count{direction=\"upstream\"}",
        "deputy_tunnel_bytes_count{direction=\"downstream\"}"}) {
    EXPECT_EQ(MetricValue(text, one), 1) << one << "\n" << text;
  }
  EXPECT_EQ(MetricValue(text, "deputy_tunnel_bytes_sum{direction=\"upstream\"}"), 5);
  EXPECT_EQ(MetricValue(text, "deputy_tunnel_bytes_sum{direction=\"downstream\"}"), 5);
  // 5 bytes fall in every bucket from 1 KiB up.
  EXPECT_EQ(MetricValue(text, "deputy_tunnel_bytes_bucket{direction=\"upstream\",le=\"1024\"}"), 1);
  for (const char* phase : {"handshake", "request", "lookup", "connect", "tunnel", "closing"}) {
    EXPECT_EQ(
        MetricValue(text, std::string("deputy_sessions_active{listener=\"connect\",phase=\"") +
                              phase + "\"}"),
        0)
        << phase;
  }
}

// OpenFds counts the descriptors `pid` holds.
double OpenFds(pid_t pid) {
  double n = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    ++n;
  }
  return n;
}

TEST_F(MetricSetTest, ProcessMetricsDescribeTheDeputyProcess) {
  DeputyProcess& deputy = world_.StartDeputy();
  const double fds_before = OpenFds(deputy.pid());
  const std::string text = Scrape();
  const double fds_after = OpenFds(deputy.pid());

  // Scraping opens the admin connection, so the count lies between the two, give or take it.
  std::optional<double> open = MetricValue(text, "process_open_fds");
  ASSERT_TRUE(open) << text;
  EXPECT_GE(*open, std::min(fds_before, fds_after) - 1);
  EXPECT_LE(*open, std::max(fds_before, fds_after) + 1);

  // deputy raises its soft limit at start; the metric is the limit it runs under.
  std::ifstream limits("/proc/" + std::to_string(deputy.pid()) + "/limits");
  std::string line;
  std::optional<double> soft;
  while (std::getline(limits, line)) {
    if (line.rfind("Max open files", 0) == 0) soft = std::stod(line.substr(26));
  }
  ASSERT_TRUE(soft);
  EXPECT_EQ(MetricValue(text, "process_max_fds"), *soft);

  std::optional<double> rss = MetricValue(text, "process_resident_memory_bytes");
  ASSERT_TRUE(rss);
  const double rss_now = static_cast<double>(deputy.RssKiB()) * 1024;
  EXPECT_GT(*rss, rss_now / 2);
  EXPECT_LT(*rss, rss_now * 2);
  std::optional<double> virtual_bytes = MetricValue(text, "process_virtual_memory_bytes");
  ASSERT_TRUE(virtual_bytes);
  EXPECT_GE(*virtual_bytes, *rss);

  // Started by this test, seconds ago (the clock tick of /proc/<pid>/stat is 10 ms).
  std::optional<double> started = MetricValue(text, "process_start_time_seconds");
  ASSERT_TRUE(started);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(*started, now + 1);
  EXPECT_GT(*started, now - 60);

  std::optional<double> cpu = MetricValue(text, "process_cpu_seconds_total");
  ASSERT_TRUE(cpu);
  EXPECT_GE(*cpu, 0);
  EXPECT_LT(*cpu, 60);
}

}  // namespace
}  // namespace deputy::test
