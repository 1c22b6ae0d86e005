// Text from publishers and redirects reaches the terminal and the log only in printable form;
// service names match whatever their case.
#include <gtest/gtest.h>

#include "integration/world.h"

namespace deputy::test {
namespace {

bool HasControlOrNonAscii(const std::string& text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n') || u >= 0x7f) return true;
  }
  return false;
}

// The document body is whatever the well-known server sends. `deputy resolve` prints it to the
// operator's terminal as is, so a hostile publisher can send terminal escape sequences.
TEST(ResolveOutputTest, ResolveDoesNotPrintControlBytesFromTheDocument) {
  World world;
  world.Publish("xmpp-client", "[\x1b]0;owned\x07\x1b[2J]");
  std::string config = world.dir.Write("resolve.json", world.config.dump());
  RunResult result =
      DeputyProcess::RunCommand({"resolve", "example.org", "xmpp-client", "-c", config});
  EXPECT_EQ(result.exit_code, 1) << result.stdout_text;
  EXPECT_FALSE(HasControlOrNonAscii(result.stdout_text)) << result.stdout_text;
}

// A Location that cannot be followed is refused, but its raw bytes (up to 200 of them, tabs and
// non-ASCII included) are copied into the error message that spdlog writes to stderr.
TEST(LogSafetyTest, RefusedLocationDoesNotReachTheLogRaw) {
  World world;
  WellKnownServer::Response redirect;
  redirect.raw =
      "HTTP/1.1 302 Found\r\nLocation: https://ex\xff\xfe\tample.org/\r\nContent-Length: 0\r\n"
      "Connection: close\r\n\r\n";
  world.PublishResponse("xmpp-client", redirect);
  DeputyProcess& deputy = world.StartDeputy();
  auto tunnel = world.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(tunnel.head.has_value());
  EXPECT_EQ(tunnel.head->status, 502);
  ASSERT_TRUE(deputy.WaitForStderr("redirects to"));
  std::string log = deputy.Stderr();
  EXPECT_EQ(log.find('\xff'), std::string::npos) << log;
  EXPECT_EQ(log.find('\t'), std::string::npos) << log;
}

// RFC 6335: service names are compared without regard to case. A client naming the service in
// upper case should reach the same delegation, not a different URL that 404s into the fallback.
TEST(ServiceNameCaseTest, UpperCaseServiceReachesTheSameDelegation) {
  World world;
  auto echo = world.EchoServer({"example.com"});
  world.PublishTarget("xmpp-client", echo->port());
  world.StartDeputy();
  auto tunnel = world.OpenTunnel("example.org:XMPP-CLIENT");
  ASSERT_TRUE(tunnel.head.has_value());
  EXPECT_EQ(tunnel.head->status, 200);
  EXPECT_EQ(world.Fetches("xmpp-client"), 1);
}

}  // namespace
}  // namespace deputy::test
