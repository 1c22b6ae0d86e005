// A failure on one side of a tunnel reaches the other side as a failure: a reset, a TLS error or
// a TCP end without close_notify from the upstream resets the client (after the bytes deputy
// had already read), and a client reset resets the upstream. Only a clean end is passed on as an
// end of stream.
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "integration/world.h"
#include "support/counter.h"

namespace deputy::test {
namespace {

constexpr size_t kPayload = 1000;

// HowItEnded records how an upstream handler's reading ended, for the test thread.
class HowItEnded {
 public:
  // ReadUntilEnd reads until close, error or timeout, then records the outcome.
  void ReadUntilEnd(TlsConnection& conn) {
    std::string got;
    char buf[65536];
    ssize_t n;
    while ((n = conn.ReadSome(buf, sizeof(buf), Millis(30000))) > 0) {
      got.append(buf, static_cast<size_t>(n));
    }
    std::lock_guard lock(mu_);
    received_ = std::move(got);
    status_ = conn.last_status();
    error_ = conn.error();
    ended_.Add();
  }

  bool WaitFor() const { return ended_.WaitFor(1); }
  std::string received() const {
    std::lock_guard lock(mu_);
    return received_;
  }
  IoStatus status() const {
    std::lock_guard lock(mu_);
    return status_;
  }
  std::string error() const {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  mutable std::mutex mu_;
  std::string received_;
  IoStatus status_ = IoStatus::kOk;
  std::string error_;
  Counter ended_;
};

// SendThenFinWithoutCloseNotify sends `data` in TLS, then ends the TCP connection's sending side
// (FIN) with no close_notify, and reads until the peer goes.
TlsServer::Handler SendThenFinWithoutCloseNotify(std::string data) {
  return [data = std::move(data)](TlsConnection& conn) {
    if (!conn.WriteAll(data)) return;
    shutdown(conn.fd(), SHUT_WR);
    char buf[4096];
    while (conn.ReadSome(buf, sizeof(buf), Millis(30000)) > 0) {
    }
  };
}

class FailurePropagationTest : public ::testing::Test {
 protected:
  // OpenTunnel opens a tunnel and expects it established.
  World::Opened OpenTunnel() {
    World::Opened tunnel = world_.OpenTunnel("example.org:xmpp-client");
    EXPECT_TRUE(tunnel.head.has_value());
    if (tunnel.head.has_value()) EXPECT_EQ(tunnel.head->status, 200);
    return tunnel;
  }

  // ReadToTheEnd is everything the client receives after the response head, and how it ended.
  static Received ReadToTheEnd(World::Opened& tunnel) {
    Received rest = RecvUntilClose(tunnel.socket.fd());
    rest.data = tunnel.head->extra + rest.data;
    return rest;
  }

  nlohmann::json OnlyAccessLogLine() {
    EXPECT_TRUE(world_.deputy->WaitForAccessLogLines(1, kDefaultTimeout));
    std::vector<nlohmann::json> lines = world_.deputy->AccessLog();
    return lines.empty() ? nlohmann::json::object() : lines.at(0);
  }

  World world_;
};

TEST_F(FailurePropagationTest, UpstreamResetReachesTheClientAsAResetAfterItsBytes) {
  const std::string payload = RandomBytes(kPayload);
  TlsServer upstream(world_.ca.Issue(CertOptions{{"example.com"}}), [&](TlsConnection& conn) {
    if (!conn.WriteAll(payload)) return;
    // An abortive close: RST, no close_notify.
    struct linger hard = {1, 0};
    setsockopt(conn.fd(), SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
  });
  world_.PublishTarget("xmpp-client", upstream.port());
  world_.StartDeputy();
  World::Opened tunnel = OpenTunnel();
  ASSERT_TRUE(tunnel.head.has_value());
  Received rest = ReadToTheEnd(tunnel);
  EXPECT_EQ(rest.data, payload);
  EXPECT_EQ(rest.end, RecvEnd::kReset);
  nlohmann::json line = OnlyAccessLogLine();
  EXPECT_EQ(line["result"], "connection_terminated") << line.dump();
  EXPECT_EQ(line["bytes_downstream"], kPayload);
}

TEST_F(FailurePropagationTest, UpstreamFinWithoutCloseNotifyResetsTheClientAsTruncated) {
  const std::string payload = RandomBytes(kPayload);
  TlsServer upstream(world_.ca.Issue(CertOptions{{"example.com"}}),
                     SendThenFinWithoutCloseNotify(payload));
  world_.PublishTarget("xmpp-client", upstream.port());
  world_.StartDeputy();
  World::Opened tunnel = OpenTunnel();
  ASSERT_TRUE(tunnel.head.has_value());
  Received rest = ReadToTheEnd(tunnel);
  EXPECT_EQ(rest.data, payload);
  EXPECT_EQ(rest.end, RecvEnd::kReset);
  nlohmann::json line = OnlyAccessLogLine();
  EXPECT_EQ(line["result"], "truncated");
  EXPECT_NE(line.value("error", "").find("close_notify"), std::string::npos) << line.dump();
}

TEST_F(FailurePropagationTest, AllowedTruncationPassesTheFinToTheClientAsAnEnd) {
  const std::string payload = RandomBytes(kPayload);
  TlsServer upstream(world_.ca.Issue(CertOptions{{"example.com"}}),
                     SendThenFinWithoutCloseNotify(payload));
  world_.PublishTarget("xmpp-client", upstream.port());
  world_.config["upstream"]["allow_truncation"] = true;
  world_.StartDeputy();
  World::Opened tunnel = OpenTunnel();
  ASSERT_TRUE(tunnel.head.has_value());
  std::string got = tunnel.head->extra;
  Received rest = RecvExact(tunnel.socket.fd(), kPayload - got.size());
  EXPECT_EQ(got + rest.data, payload);
  EXPECT_EQ(RecvSome(tunnel.socket.fd()).end, RecvEnd::kEof);
  // A half-close, as before: the client ends its side too and the tunnel is complete.
  ASSERT_TRUE(ShutdownWrite(tunnel.socket.fd()));
  EXPECT_EQ(OnlyAccessLogLine()["result"], "ok");
}

TEST_F(FailurePropagationTest, TlsErrorMidStreamResetsTheClient) {
  const std::string payload = RandomBytes(kPayload);
  TlsServer upstream(world_.ca.Issue(CertOptions{{"example.com"}}), [&](TlsConnection& conn) {
    if (!conn.WriteAll(payload)) return;
    // An application-data record header followed by bytes no key produced: a bad record.
    std::string junk = std::string("\x17\x03\x03\x00\x40", 5) + RandomBytes(64);
    if (send(conn.fd(), junk.data(), junk.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(junk.size())) {
      return;
    }
    char buf[4096];
    while (conn.ReadSome(buf, sizeof(buf), Millis(30000)) > 0) {
    }
  });
  world_.PublishTarget("xmpp-client", upstream.port());
  world_.StartDeputy();
  World::Opened tunnel = OpenTunnel();
  ASSERT_TRUE(tunnel.head.has_value());
  Received rest = ReadToTheEnd(tunnel);
  EXPECT_EQ(rest.data, payload);
  EXPECT_EQ(rest.end, RecvEnd::kReset);
  EXPECT_EQ(OnlyAccessLogLine()["result"], "tls_protocol_error");
}

TEST_F(FailurePropagationTest, ClientResetReachesTheUpstreamAsAReset) {
  HowItEnded upstream_end;
  TlsServer upstream(world_.ca.Issue(CertOptions{{"example.com"}}),
                     [&](TlsConnection& conn) { upstream_end.ReadUntilEnd(conn); });
  world_.PublishTarget("xmpp-client", upstream.port());
  world_.StartDeputy();
  World::Opened tunnel = OpenTunnel();
  ASSERT_TRUE(tunnel.head.has_value());
  ASSERT_TRUE(SendAll(tunnel.socket.fd(), "partial"));
  ASSERT_TRUE(upstream.bytes_received().WaitFor(7));
  tunnel.socket.CloseWithReset();
  ASSERT_TRUE(upstream_end.WaitFor());
  EXPECT_EQ(upstream_end.received(), "partial");
  EXPECT_EQ(upstream_end.status(), IoStatus::kError) << "the upstream saw a clean close";
  EXPECT_EQ(upstream_end.error(), std::strerror(ECONNRESET));
  EXPECT_EQ(OnlyAccessLogLine()["result"], "connection_terminated");
}

// What deputy already read from the client before its reset is still delivered to an upstream
// that reads late, and only then is the upstream reset.
TEST_F(FailurePropagationTest, BytesQueuedBeforeAClientResetReachTheUpstreamFirst) {
  constexpr size_t kQueued = 4 << 20;  // far more than the kernel buffers on the way hold
  const std::string data = RandomBytes(kQueued);
  StopEvent start_reading;
  HowItEnded upstream_end;
  TlsServer upstream(world_.ca.Issue(CertOptions{{"example.com"}}), [&](TlsConnection& conn) {
    if (!start_reading.WaitFor(kDefaultTimeout)) return;
    upstream_end.ReadUntilEnd(conn);
  });
  world_.PublishTarget("xmpp-client", upstream.port());
  // Room for all of it in deputy, so the client is never paused.
  world_.config["upstream"]["buffer_bytes"] = 16 << 20;
  world_.StartDeputy();
  World::Opened tunnel = OpenTunnel();
  ASSERT_TRUE(tunnel.head.has_value());
  ASSERT_TRUE(SendAll(tunnel.socket.fd(), data, Millis(30000)));
  // The reset must not overtake the data: wait until deputy's kernel has acknowledged all of it
  // (no event reports that, so look every millisecond).
  Deadline deadline(kDefaultTimeout);
  int unacknowledged = 0;
  while (ioctl(tunnel.socket.fd(), SIOCOUTQ, &unacknowledged) == 0 && unacknowledged > 0 &&
         !deadline.expired()) {
    std::this_thread::sleep_for(Millis(1));
  }
  ASSERT_EQ(unacknowledged, 0);
  tunnel.socket.CloseWithReset();
  start_reading.Fire();
  ASSERT_TRUE(upstream_end.WaitFor());
  EXPECT_EQ(upstream_end.received().size(), kQueued);
  EXPECT_TRUE(upstream_end.received() == data);
  EXPECT_EQ(upstream_end.status(), IoStatus::kError) << "the upstream saw a clean close";
  EXPECT_EQ(upstream_end.error(), std::strerror(ECONNRESET));
  EXPECT_EQ(OnlyAccessLogLine()["result"], "connection_terminated");
}

}  // namespace
}  // namespace deputy::test
