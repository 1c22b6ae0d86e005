// Through a real deputy process: peers that misbehave after a clean start, legal
// HTTP that is rarely seen, clients that close early, backpressure toward the upstream, caching
// of failures and of negative answers, redirects across hosts, and a graceful shutdown.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <thread>

#include "integration/world.h"
#include "support/counter.h"

namespace deputy::test {
namespace {

class UnusualPeersTest : public ::testing::Test {
 protected:
  World world_;
};

// TLS says data after close_notify is to be ignored. A verified upstream that keeps sending
// raw bytes after its close_notify must not make deputy hold them.
TEST_F(UnusualPeersTest, BytesAfterUpstreamCloseNotifyDoNotAccumulate) {
  constexpr size_t kJunk = 128 << 20;
  Counter go;
  Counter junk_done;
  std::atomic<size_t> junk_sent{0};
  TlsServer upstream(world_.ca.Issue(CertOptions{{"example.com"}}), [&](TlsConnection& conn) {
    if (!conn.WriteAll("bye")) return;
    // close_notify alone: the TCP connection stays open for writing.
    SSL_shutdown(conn.ssl());
    if (!go.WaitFor(1)) return;
    std::string chunk(1 << 16, 'j');
    Deadline deadline(Millis(60000));
    size_t sent = 0;
    while (sent < kJunk) {
      if (WaitFd(conn.fd(), POLLOUT, deadline) != WaitResult::kReady) break;
      ssize_t n = send(conn.fd(), chunk.data(), chunk.size(), MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    junk_sent = sent;
    junk_done.Add();
    conn.Pause(Millis(60000));  // hold the connection until the test ends
  });
  world_.PublishTarget("xmpp-client", upstream.port());
  SmallAsanQuarantine small_quarantine;
  DeputyProcess& deputy = world_.StartDeputy();
  auto tunnel = world_.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(tunnel.head.has_value());
  ASSERT_EQ(tunnel.head->status, 200);
  std::string got = tunnel.head->extra;
  if (got.size() < 3) got += RecvExact(tunnel.socket.fd(), 3 - got.size()).data;
  EXPECT_EQ(got, "bye");
  EXPECT_EQ(RecvSome(tunnel.socket.fd()).end, RecvEnd::kEof);
  long baseline_kib = deputy.RssKiB();
  go.Add();
  ASSERT_TRUE(junk_done.WaitFor(1, Millis(60000)));
  long after_kib = deputy.RssKiB();
  EXPECT_LT(after_kib - baseline_kib, 32 * 1024)
      << junk_sent.load() << " junk bytes sent; baseline " << baseline_kib << " KiB, after "
      << after_kib << " KiB";
}

// RFC 9110 15.2: 1xx responses may precede the final one; the document is in the final one.
TEST_F(UnusualPeersTest, InterimResponseBeforeTheDocumentIsSkipped) {
  auto echo = world_.EchoServer({"example.com"});
  std::string document =
      nlohmann::json::array({World::Entry("xmpp.example.com", echo->port(), "example.com")}).dump();
  WellKnownServer::Response response;
  response.raw =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(document.size()) + "\r\nConnection: close\r\n\r\n" + document;
  world_.PublishResponse("xmpp-client", response);
  world_.StartDeputy();
  auto tunnel = world_.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(tunnel.head.has_value());
  EXPECT_EQ(tunnel.head->status, 200) << tunnel.head->Header("proxy-status").value_or("");
}

// Early data larger than one read: the rest stays in the socket while the lookup runs and
// follows, in order, once the tunnel is up.
TEST_F(UnusualPeersTest, LargeEarlyDataArrivesIntactAndInOrder) {
  constexpr size_t kEarly = 1 << 20;
  auto echo = world_.EchoServer({"example.com"});
  world_.PublishTarget("xmpp-client", echo->port());
  world_.StartDeputy();
  Socket client = ConnectTcp(world_.deputy->Port("connect"));
  ASSERT_TRUE(client.valid());
  std::string early = RandomBytes(kEarly);
  bool sent = false;
  std::thread writer([&] {
    sent = SendAll(client.fd(), ConnectRequest("example.org:xmpp-client") + early, Millis(60000));
  });
  auto head = ReadHttpResponseHead(client.fd(), Millis(20000));
  std::string got;
  if (head.has_value()) got = head->extra;
  Sha256Stream hash;
  hash.Update(got);
  size_t received = got.size();
  while (head.has_value() && received < kEarly) {
    Received chunk =
        RecvSome(client.fd(), Millis(20000), std::min<size_t>(kEarly - received, 1 << 16));
    if (chunk.data.empty()) break;
    received += chunk.data.size();
    hash.Update(chunk.data);
  }
  writer.join();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(sent);
  EXPECT_EQ(received, kEarly);
  EXPECT_EQ(hash.HexDigest(), Sha256Hex(early));
}

// HTTP/1.0 clients (nc) get an HTTP/1.0 success line too, and a working tunnel.
TEST_F(UnusualPeersTest, Http10ConnectGetsAnHttp10SuccessAndATunnel) {
  auto echo = world_.EchoServer({"example.com"});
  world_.PublishTarget("xmpp-client", echo->port());
  world_.StartDeputy();
  Socket client = ConnectTcp(world_.deputy->Port("connect"));
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(SendAll(client.fd(), "CONNECT example.org:xmpp-client HTTP/1.0\r\n\r\nping"));
  auto head = ReadHttpResponseHead(client.fd());
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->version, "HTTP/1.0");
  EXPECT_EQ(head->status, 200);
  std::string echoed = head->extra;
  if (echoed.size() < 4) echoed += RecvExact(client.fd(), 4 - echoed.size()).data;
  EXPECT_EQ(echoed, "ping");
}

// The mirror of the slow-reader test: an upstream that reads slowly while the client sends
// as fast as it can; deputy must stop reading the client instead of buffering.
TEST_F(UnusualPeersTest, SlowUpstreamReaderKeepsDeputyMemoryBounded) {
  constexpr size_t kTotal = 64 << 20;
  constexpr size_t kBlock = 1 << 20;
  TlsServer upstream(world_.ca.Issue(CertOptions{{"example.com"}}), [](TlsConnection& conn) {
    char buf[32 * 1024];
    size_t total = 0;
    while (total < kTotal) {
      ssize_t n = conn.ReadSome(buf, sizeof(buf), Millis(60000));
      if (n <= 0) return;
      total += static_cast<size_t>(n);
      if (!conn.Pause(Millis(1))) return;
    }
  });
  world_.PublishTarget("xmpp-client", upstream.port());
  SmallAsanQuarantine small_quarantine;
  DeputyProcess& deputy = world_.StartDeputy();
  auto tunnel = world_.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(tunnel.head.has_value());
  ASSERT_EQ(tunnel.head->status, 200);
  long baseline_kib = deputy.RssKiB();
  long peak_kib = baseline_kib;
  std::string block = RandomBytes(kBlock);
  for (size_t sent = 0; sent < kTotal; sent += kBlock) {
    ASSERT_TRUE(SendAll(tunnel.socket.fd(), block, Millis(60000))) << "after " << sent;
    peak_kib = std::max(peak_kib, deputy.RssKiB());
  }
  EXPECT_TRUE(upstream.bytes_received().WaitFor(kTotal, Millis(60000)));
  EXPECT_LT(peak_kib - baseline_kib, 24 * 1024)
      << "baseline " << baseline_kib << " KiB, peak " << peak_kib << " KiB";
}

// A failed lookup is not cached and never falls back to the domain itself; once the document
// is fixed, the next client gets through.
TEST_F(UnusualPeersTest, FailedLookupNeverFallsBackAndIsNotCached) {
  auto direct = world_.EchoServer({"example.org"});
  world_.config["services"] = {{"xmpp-client", direct->port()}};
  world_.PublishResponse("xmpp-client", {.status = 500});
  world_.StartDeputy();
  ExpectRefusal(world_.OpenTunnel("example.org:xmpp-client").head, 502, "destination_not_found");
  EXPECT_EQ(direct->accepted().value(), 0u);

  auto echo = world_.EchoServer({"example.com"});
  world_.PublishTarget("xmpp-client", echo->port());
  auto tunnel = world_.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(tunnel.head.has_value());
  EXPECT_EQ(tunnel.head->status, 200);
  EXPECT_EQ(world_.Fetches("xmpp-client"), 2);
  EXPECT_EQ(direct->accepted().value(), 0u);
}

// 404 is cached for negative_ttl_s: the second client falls back without a second fetch.
TEST_F(UnusualPeersTest, NotDelegatedAnswerIsCached) {
  auto direct = world_.EchoServer({"example.net"});
  world_.config["services"] = {{"xmpp-client", direct->port()}};
  world_.StartDeputy();
  for (int i = 0; i < 2; ++i) {
    auto tunnel = world_.OpenTunnel("example.net:xmpp-client");
    ASSERT_TRUE(tunnel.head.has_value());
    EXPECT_EQ(tunnel.head->status, 200);
  }
  EXPECT_EQ(world_.Fetches("xmpp-client"), 1);
  EXPECT_TRUE(direct->handshakes().WaitFor(2));
}

// The document limit bounds the document. A 404 page or a redirect carries no document, and a
// big one (an HTML error page) must not turn "not delegated" or "moved" into a failed lookup.
TEST_F(UnusualPeersTest, LargeBodyOfANotFoundPageStillMeansNotDelegated) {
  auto direct = world_.EchoServer({"example.net"});
  world_.config["services"] = {{"xmpp-client", direct->port()}};
  WellKnownServer::Response not_found;
  not_found.status = 404;
  not_found.headers = {{"Content-Type", "text/html"}};
  not_found.body = "<html>" + std::string(200 * 1024, ' ') + "</html>";
  world_.PublishResponse("xmpp-client", not_found);
  world_.StartDeputy();
  auto tunnel = world_.OpenTunnel("example.net:xmpp-client");
  ASSERT_TRUE(tunnel.head.has_value());
  EXPECT_EQ(tunnel.head->status, 200) << tunnel.head->Header("proxy-status").value_or("");
  EXPECT_TRUE(direct->handshakes().WaitFor(1));
}

TEST_F(UnusualPeersTest, LargeBodyOfARedirectIsNotTheDocument) {
  auto echo = world_.EchoServer({"example.com"});
  world_.PublishTarget("xmpp-client", echo->port());
  WellKnownServer::Response moved;
  moved.status = 301;
  moved.headers = {{"Location", "/.well-known/service/xmpp-client"}, {"Content-Type", "text/html"}};
  moved.body = "<html>" + std::string(200 * 1024, ' ') + "</html>";
  world_.PublishResponse("xmpp-server", moved);
  world_.StartDeputy();
  auto tunnel = world_.OpenTunnel("example.org:xmpp-server");
  ASSERT_TRUE(tunnel.head.has_value());
  EXPECT_EQ(tunnel.head->status, 200) << tunnel.head->Header("proxy-status").value_or("");
}

// A redirect to another https host is followed, and that host's certificate is verified for
// that host's name, not the first one's.
TEST_F(UnusualPeersTest, RedirectHopIsVerifiedForItsOwnHost) {
  auto echo = world_.EchoServer({"example.com"});
  WellKnownServer other(world_.ca.Issue(CertOptions{{"other.example.com"}}));
  WellKnownServer::Response document;
  document.body =
      nlohmann::json::array({World::Entry("xmpp.example.com", echo->port(), "example.com")}).dump();
  other.Set("/.well-known/service/xmpp-client", document);
  other.Set("/.well-known/service/xmpp-server", document);
  auto redirect_to = [&](const std::string& host, const std::string& service) {
    WellKnownServer::Response r;
    r.status = 302;
    r.headers = {{"Location", "https://" + host + ":" + std::to_string(other.port()) +
                                  "/.well-known/service/" + service}};
    world_.PublishResponse(service, r);
  };
  redirect_to("other.example.com", "xmpp-client");
  // example.net resolves to the same server, whose certificate does not name example.net.
  redirect_to("example.net", "xmpp-server");
  world_.StartDeputy();

  auto good = world_.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(good.head.has_value());
  EXPECT_EQ(good.head->status, 200);
  ASSERT_FALSE(other.requests().empty());
  EXPECT_EQ(other.requests().back().sni, "other.example.com");

  ExpectRefusal(world_.OpenTunnel("example.org:xmpp-server").head, 502, "tls_certificate_error");
  EXPECT_EQ(other.Requests("/.well-known/service/xmpp-server"), 0);
}

// A client that resets while its lookup is still running leaves one access-log line and no
// damage: the next client is served normally.
TEST_F(UnusualPeersTest, ClientResetDuringTheLookupIsHarmless) {
  auto echo = world_.EchoServer({"example.com"});
  WellKnownServer::Response slow;
  slow.body =
      nlohmann::json::array({World::Entry("xmpp.example.com", echo->port(), "example.com")}).dump();
  slow.headers = {{"Content-Type", "application/json"}, {"Cache-Control", "max-age=0"}};
  slow.delay_ms = 300;
  world_.PublishResponse("xmpp-client", slow);
  DeputyProcess& deputy = world_.StartDeputy();
  {
    Socket client = ConnectTcp(deputy.Port("connect"));
    ASSERT_TRUE(client.valid());
    ASSERT_TRUE(SendAll(client.fd(), ConnectRequest("example.org:xmpp-client")));
    ASSERT_TRUE(world_.well_known->WaitForRequests("/.well-known/service/xmpp-client", 1));
    client.CloseWithReset();
  }
  ASSERT_TRUE(deputy.WaitForAccessLogLines(1, kDefaultTimeout));
  EXPECT_NE(deputy.AccessLog().at(0)["result"], "ok");
  auto tunnel = world_.OpenTunnel("example.org:xmpp-client", "again");
  ASSERT_TRUE(tunnel.head.has_value());
  EXPECT_EQ(tunnel.head->status, 200);
}

// SIGTERM stops accepting, lets a running tunnel finish its work, then exits cleanly.
TEST_F(UnusualPeersTest, SigtermDrainsARunningTunnel) {
  auto echo = world_.EchoServer({"example.com"});
  world_.PublishTarget("xmpp-client", echo->port());
  DeputyProcess& deputy = world_.StartDeputy();
  auto tunnel = world_.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(tunnel.head.has_value());
  ASSERT_EQ(tunnel.head->status, 200);
  ASSERT_EQ(kill(deputy.pid(), SIGTERM), 0);
  ASSERT_TRUE(deputy.WaitForStderr("shutting down"));
  world_.ExpectNoNewTunnel();
  World::ExpectTunnelEndsCleanly(tunnel);
  ASSERT_TRUE(deputy.WaitForAccessLogLines(1, kDefaultTimeout));
  EXPECT_EQ(deputy.AccessLog().at(0)["result"], "ok");
  // The last session gone, deputy exits by itself.
  EXPECT_EQ(deputy.WaitForExit(Millis(10000)), 0);
}

// A second SIGTERM cuts running tunnels at once, and the client reads the cut as a reset, not
// as a clean end of stream.
TEST_F(UnusualPeersTest, SecondSigtermResetsARunningTunnel) {
  auto echo = world_.EchoServer({"example.com"});
  world_.PublishTarget("xmpp-client", echo->port());
  DeputyProcess& deputy = world_.StartDeputy();
  auto tunnel = world_.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(tunnel.head.has_value());
  ASSERT_EQ(tunnel.head->status, 200);
  ASSERT_TRUE(SendAll(tunnel.socket.fd(), "ping"));
  EXPECT_EQ(RecvExact(tunnel.socket.fd(), 4).data, "ping");
  ASSERT_EQ(kill(deputy.pid(), SIGTERM), 0);
  ASSERT_TRUE(deputy.WaitForStderr("shutting down"));
  ASSERT_EQ(kill(deputy.pid(), SIGTERM), 0);
  EXPECT_EQ(RecvUntilClose(tunnel.socket.fd()).end, RecvEnd::kReset);
  EXPECT_EQ(deputy.WaitForExit(Millis(10000)), 0);
  ASSERT_TRUE(deputy.WaitForAccessLogLines(1, kDefaultTimeout));
  EXPECT_EQ(deputy.AccessLog().at(0)["result"], "connection_terminated");
}

// While deputy drains after SIGTERM, /readyz says so (503), so a load balancer stops sending
// new clients, and /healthz still says it is alive (a liveness probe must not kill a drain); the
// admin endpoint must still answer for both.
TEST_F(UnusualPeersTest, ReadyzReportsDrainingDuringShutdownWhileHealthzStaysOk) {
  auto echo = world_.EchoServer({"example.com"});
  world_.PublishTarget("xmpp-client", echo->port());
  DeputyProcess& deputy = world_.StartDeputy();
  auto tunnel = world_.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(tunnel.head.has_value());
  ASSERT_EQ(tunnel.head->status, 200);
  ASSERT_EQ(kill(deputy.pid(), SIGTERM), 0);
  ASSERT_TRUE(deputy.WaitForStderr("shutting down"));
  auto ready = HttpGet(deputy.Port("admin"), "/readyz", Millis(2000));
  ASSERT_TRUE(ready.has_value()) << "the admin endpoint stopped answering while draining";
  EXPECT_EQ(ready->head.status, 503);
  EXPECT_NE(ready->body.find("draining"), std::string::npos) << ready->body;
  auto health = HttpGet(deputy.Port("admin"), "/healthz", Millis(2000));
  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(health->head.status, 200);
}

// Shutdown while a lookup waits on a silent well-known server and a handshake waits on a silent
// upstream: a second signal cuts both, and deputy exits cleanly (under ASan, without a
// use-after-free in the teardown).
TEST_F(UnusualPeersTest, ShutdownWithLookupAndHandshakeInFlightExitsCleanly) {
  TcpServer silent(TcpServer::HoldOpen());
  world_.PublishTarget("xmpp-client", silent.port());
  world_.PublishResponse("xmpp-server", {.never_answer = true});
  world_.config["discovery"]["timeout_ms"] = 30000;
  world_.config["upstream"]["handshake_timeout_ms"] = 30000;
  DeputyProcess& deputy = world_.StartDeputy();
  Socket connecting = ConnectTcp(deputy.Port("connect"));
  Socket looking_up = ConnectTcp(deputy.Port("connect"));
  ASSERT_TRUE(connecting.valid() && looking_up.valid());
  ASSERT_TRUE(SendAll(connecting.fd(), ConnectRequest("example.org:xmpp-client")));
  ASSERT_TRUE(SendAll(looking_up.fd(), ConnectRequest("example.org:xmpp-server")));
  ASSERT_TRUE(silent.accepted().WaitFor(1));
  ASSERT_TRUE(world_.well_known->WaitForRequests("/.well-known/service/xmpp-server", 1));
  ASSERT_EQ(kill(deputy.pid(), SIGTERM), 0);
  ASSERT_TRUE(deputy.WaitForStderr("shutting down"));
  ASSERT_EQ(kill(deputy.pid(), SIGTERM), 0);
  EXPECT_NE(RecvUntilClose(connecting.fd(), Millis(5000)).end, RecvEnd::kTimeout);
  EXPECT_NE(RecvUntilClose(looking_up.fd(), Millis(5000)).end, RecvEnd::kTimeout);
  EXPECT_EQ(deputy.WaitForExit(Millis(10000)), 0) << deputy.Stderr();
  EXPECT_EQ(deputy.AccessLog().size(), 2u);
}

}  // namespace
}  // namespace deputy::test
