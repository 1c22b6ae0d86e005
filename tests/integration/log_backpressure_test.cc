// The event loop never waits for its logs: a sink that takes nothing costs log lines, counted,
// never sessions.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>

#include "integration/world.h"
#include "support/metric_wait.h"

namespace deputy::test {
namespace {

TEST(LogBackpressureTest, SessionsCompleteWhileNobodyReadsTheAccessLog) {
  World world;
  DeputyOptions options;
  options.drain_stdout = false;
  // A small queue, so that 400 lines are more than the pipe (64 KiB) and the queue together.
  options.run_args = {"--log-queue-lines", "64"};
  world.deputy = std::make_unique<DeputyProcess>(world.config, options);
  DeputyProcess& deputy = *world.deputy;
  std::string error;
  ASSERT_TRUE(deputy.Start(&error)) << error << "\nstderr:\n" << deputy.Stderr();

  constexpr int kSessions = 400;
  for (int i = 0; i < kSessions; ++i) {
    // Refused at once (an IP literal is not a domain), and logged like any session.
    Socket client = ConnectTcp(deputy.Port("connect"));
    ASSERT_TRUE(client.valid()) << "session " << i;
    ASSERT_TRUE(SendAll(client.fd(), ConnectRequest("192.0.2.1:443"))) << "session " << i;
    std::optional<HttpResponseHead> head = ReadHttpResponseHead(client.fd(), Millis(5000));
    ASSERT_TRUE(head.has_value()) << "session " << i << " got no answer: the loop is stuck";
    ASSERT_EQ(head->status, 400);
  }

  // The last sessions end when deputy sees their clients close; /metrics runs on the same loop.
  const std::string finished = "deputy_tunnels_total{listener=\"connect\",result=\"bad_request\"}";
  ASSERT_TRUE(WaitForMetricAtLeast(deputy.Port("admin"), finished, kSessions))
      << "sessions did not all end, or /metrics did not answer: the loop is stuck";
  std::optional<HttpResponse> response = HttpGet(deputy.Port("admin"), "/metrics");
  ASSERT_TRUE(response.has_value());
  const std::string& metrics = response->body;
  EXPECT_EQ(MetricValue(metrics, finished), kSessions) << metrics;
  const double dropped =
      MetricValue(metrics, "deputy_log_lines_dropped_total{log=\"access\"}").value_or(-1);
  EXPECT_GT(dropped, 0) << metrics;
  EXPECT_LT(dropped, kSessions);
  EXPECT_EQ(MetricValue(metrics, "deputy_log_lines_dropped_total{log=\"diagnostic\"}"), 0);

  // Shutdown flushes within a bound even though the sink still takes nothing.
  const auto stopping = std::chrono::steady_clock::now();
  EXPECT_EQ(deputy.Stop(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, std::chrono::seconds(8));
}

}  // namespace
}  // namespace deputy::test
