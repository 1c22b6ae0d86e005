// A flood of failures of one kind reaches the diagnostic log as a short burst and a count.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include "integration/world.h"

namespace deputy::test {
namespace {

size_t Count(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(WarningRateLimitTest, RepeatedUpstreamFailuresLogABurstAndCountTheRest) {
  World world;
  uint16_t closed_port = 0;
  Socket reserved = ReserveClosedPort(&closed_port);
  world.PublishTarget("xmpp-client", closed_port);
  DeputyProcess& deputy = world.StartDeputy();

  // 100 CONNECTs at once, each failing its one upstream attempt.
  constexpr size_t kAttempts = 100;
  const auto started = std::chrono::steady_clock::now();
  std::vector<Socket> clients;
  for (size_t i = 0; i < kAttempts; ++i) {
    clients.push_back(ConnectTcp(deputy.Port("connect")));
    ASSERT_TRUE(clients.back().valid());
    ASSERT_TRUE(SendAll(clients.back().fd(), ConnectRequest("example.org:xmpp-client")));
  }
  for (Socket& client : clients) {
    std::optional<HttpResponseHead> head = ReadHttpResponseHead(client.fd());
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->status, 502);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // The count of the last window is reported at exit.
  ASSERT_EQ(deputy.Stop(), 0);

  const std::string log = deputy.Stderr();
  const size_t logged = Count(log, "example.org/xmpp-client: upstream xmpp.example.com (");
  size_t suppressed = 0;
  const std::regex summary("upstream attempt failed: suppressed (\\d+) similar warnings");
  for (std::sregex_iterator it(log.begin(), log.end(), summary), end; it != end; ++it) {
    suppressed += std::stoul((*it)[1]);
  }
  EXPECT_EQ(logged + suppressed, kAttempts) << log;
  EXPECT_GT(suppressed, 0u) << log;
  // At most 10 per second: one window per started second, plus the one already open.
  EXPECT_LE(logged, 10 * (static_cast<size_t>(seconds) + 2)) << "in " << seconds << " s\n" << log;
  EXPECT_GE(Count(log, "upstream attempt failed: suppressing further warnings"), 1u) << log;
}

}  // namespace
}  // namespace deputy::test
