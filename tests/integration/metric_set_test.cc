// Through a real deputy that has served nobody yet: /metrics already carries every series a
// dashboard or an alert needs at 0 (so rate() and absent-series alerts work before the first
// failure), says which build it is, and reports the process's own resources under the standard
// process_* names, with values that match what /proc says about that deputy.
#include <gtest/gtest.h>
#include <openssl/base.h>

#include <chrono>
#include <filesystem>
#include <fstream>
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
                                 std::string(Describe(static_cast<ErrorCode>(code)).label) +
                                 "\"}";
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
  const double now = std::chrono::duration<double>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  EXPECT_LE(*started, now + 1);
  EXPECT_GT(*started, now - 60);

  std::optional<double> cpu = MetricValue(text, "process_cpu_seconds_total");
  ASSERT_TRUE(cpu);
  EXPECT_GE(*cpu, 0);
  EXPECT_LT(*cpu, 60);
}

}  // namespace
}  // namespace deputy::test
