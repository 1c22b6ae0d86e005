#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "support/client.h"
#include "support/http_head.h"
#include "support/random_data.h"
#include "support/test_pki.h"
#include "support/tls_connection.h"
#include "support/tls_handlers.h"
#include "support/tls_server.h"
#include "support/well_known_server.h"

namespace deputy::test {
namespace {

using std::chrono::steady_clock;

class FixturesTest : public ::testing::Test {
 protected:
  KeyPair Leaf(const std::string& name) {
    CertOptions options;
    options.dns_names = {name};
    return ca_.Issue(options);
  }

  std::unique_ptr<TlsConnection> Connect(uint16_t port, const std::string& name,
                                         std::string* error) {
    TlsClientOptions options;
    options.ca_pem = ca_.cert_pem();
    options.verify_name = name;
    options.sni = name;
    return ConnectTls(port, options, error);
  }

  TestCa ca_;
};

TEST_F(FixturesTest, ClientVerifiesTheRightName) {
  TlsServer server(Leaf("example.com"), Echo());
  std::string error;
  std::unique_ptr<TlsConnection> conn = Connect(server.port(), "example.com", &error);
  ASSERT_TRUE(conn) << error;
  ASSERT_TRUE(server.handshakes().WaitFor(1));
  EXPECT_EQ(server.last_sni(), "example.com");
  EXPECT_EQ(server.handshake_failures().value(), 0u);
}

TEST_F(FixturesTest, ClientRejectsAWrongName) {
  TlsServer server(Leaf("example.com"), Echo());
  std::string error;
  EXPECT_FALSE(Connect(server.port(), "example.net", &error));
  EXPECT_NE(error.find("mismatch"), std::string::npos) << error;
  // The server sees the client's alert, so its handshake fails and the handler never runs.
  ASSERT_TRUE(server.handshake_failures().WaitFor(1));
  EXPECT_EQ(server.handshakes().value(), 0u);
  EXPECT_EQ(server.accepted().value(), 1u);
}

TEST_F(FixturesTest, ClientRejectsAnotherCa) {
  TestCa other("other CA");
  CertOptions options;
  options.dns_names = {"example.com"};
  TlsServer server(other.Issue(options), Echo());
  std::string error;
  EXPECT_FALSE(Connect(server.port(), "example.com", &error));
  ASSERT_TRUE(server.handshake_failures().WaitFor(1));
}

TEST_F(FixturesTest, TlsVersionCanBeCapped) {
  TlsServerOptions options;
  options.max_version = TLS1_2_VERSION;
  TlsServer server(Leaf("example.com"), Echo(), options);
  std::string error;
  std::unique_ptr<TlsConnection> conn = Connect(server.port(), "example.com", &error);
  ASSERT_TRUE(conn) << error;
  EXPECT_EQ(conn->version(), "TLSv1.2");
}

TEST_F(FixturesTest, EchoRoundTripAndHalfClose) {
  TlsServer server(Leaf("example.com"), Echo());
  std::string error;
  std::unique_ptr<TlsConnection> conn = Connect(server.port(), "example.com", &error);
  ASSERT_TRUE(conn) << error;
  std::string data = RandomBytes(1 << 20);
  std::string echoed(data.size(), '\0');
  constexpr size_t kChunk = 65536;
  for (size_t off = 0; off < data.size(); off += kChunk) {
    ASSERT_TRUE(conn->WriteAll(std::string_view(data).substr(off, kChunk))) << conn->error();
    ASSERT_TRUE(conn->ReadExact(echoed.data() + off, kChunk)) << conn->error();
  }
  EXPECT_EQ(Sha256Hex(echoed), Sha256Hex(data));

  // After our half-close the echo still returns what it got, then closes its side cleanly.
  ASSERT_TRUE(conn->WriteAll("tail"));
  ASSERT_TRUE(conn->ShutdownWrite()) << conn->error();
  std::string rest;
  EXPECT_TRUE(conn->ReadUntilClose(&rest)) << conn->error();
  EXPECT_EQ(rest, "tail");
  EXPECT_TRUE(conn->close_notify_received());
  EXPECT_TRUE(server.bytes_received().WaitFor(data.size() + 4));
}

TEST_F(FixturesTest, SendThenHalfCloseKeepsReading) {
  TlsServer server(Leaf("example.com"), SendThenHalfClose("greeting"));
  std::string error;
  std::unique_ptr<TlsConnection> conn = Connect(server.port(), "example.com", &error);
  ASSERT_TRUE(conn) << error;
  std::string got;
  EXPECT_TRUE(conn->ReadUntilClose(&got));
  EXPECT_EQ(got, "greeting");
  EXPECT_TRUE(conn->peer_closed());
  // The server's write side is closed, its read side is not.
  ASSERT_TRUE(conn->WriteAll("late reply"));
  ASSERT_TRUE(conn->ShutdownWrite());
  EXPECT_TRUE(server.bytes_received().WaitFor(10));
  EXPECT_EQ(server.bytes_received().value(), 10u);
}

TEST_F(FixturesTest, RecordingSinkKeepsEverything) {
  RecordingSink sink;
  TlsServer server(Leaf("example.com"), sink.handler());
  std::string error;
  for (const char* text : {"one ", "two"}) {
    std::unique_ptr<TlsConnection> conn = Connect(server.port(), "example.com", &error);
    ASSERT_TRUE(conn) << error;
    ASSERT_TRUE(conn->WriteAll(text));
    ASSERT_TRUE(conn->ShutdownWrite());
    ASSERT_TRUE(sink.closed().WaitFor(text[0] == 'o' ? 1 : 2));
  }
  EXPECT_EQ(sink.received(), "one two");
  EXPECT_EQ(sink.bytes().value(), 7u);
}

TEST_F(FixturesTest, StoppingWakesHandlersAtOnce) {
  auto server = std::make_unique<TlsServer>(Leaf("example.com"), Echo());
  std::string error;
  std::unique_ptr<TlsConnection> idle = Connect(server->port(), "example.com", &error);
  ASSERT_TRUE(idle) << error;
  ASSERT_TRUE(server->handshakes().WaitFor(1));
  auto start = steady_clock::now();
  server.reset();
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(2));
  // The echo thread gave up on the connection, which the client sees as a close.
  char byte;
  EXPECT_EQ(idle->ReadSome(&byte, 1, Millis(2000)), 0);
}

TEST_F(FixturesTest, TcpServerModes) {
  TcpServer closer(TcpServer::CloseAtOnce());
  TcpServer resetter(TcpServer::ResetAtOnce());
  TcpServer silent(TcpServer::HoldOpen());
  std::string error;
  TlsClientOptions options;
  options.timeout = Millis(300);
  auto start = steady_clock::now();
  EXPECT_FALSE(ConnectTls(silent.port(), options, &error));
  EXPECT_NE(error.find("timed out"), std::string::npos) << error;
  EXPECT_GE(steady_clock::now() - start, Millis(300));
  EXPECT_FALSE(ConnectTls(closer.port(), options, &error));
  EXPECT_FALSE(ConnectTls(resetter.port(), options, &error));
  EXPECT_EQ(closer.accepted().value(), 1u);
  EXPECT_EQ(resetter.accepted().value(), 1u);
  // The silent server did receive the ClientHello.
  EXPECT_TRUE(silent.bytes_received().WaitFor(1));
}

size_t CountEntries(const char* dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

TEST_F(FixturesTest, ManyFixturesLeakNoFdsOrThreads) {
  KeyPair pair = Leaf("example.com");
  auto round = [&] {
    TlsServer server(pair, Echo());
    TcpServer tcp(TcpServer::HoldOpen());
    std::string error;
    std::unique_ptr<TlsConnection> conn = Connect(server.port(), "example.com", &error);
    ASSERT_TRUE(conn) << error;
    Socket plain = ConnectTcp(tcp.port());
    ASSERT_TRUE(plain.valid());
    ASSERT_TRUE(tcp.accepted().WaitFor(1));
  };
  // The first round may start threads that live as long as the process (ThreadSanitizer's
  // background thread starts with the first thread created): a leak is what grows after it.
  round();
  size_t fds = CountEntries("/proc/self/fd");
  size_t threads = CountEntries("/proc/self/task");
  for (int i = 0; i < 20; ++i) round();
  EXPECT_EQ(CountEntries("/proc/self/fd"), fds);
  // pthread_join returns when the kernel clears the thread's id, a moment before it drops the
  // thread's /proc/self/task entry, and no event marks the drop: poll for it, with a bound.
  Deadline settled(Millis(2000));
  while (CountEntries("/proc/self/task") > threads && !settled.expired()) {
    std::this_thread::sleep_for(Millis(1));
  }
  // At most: the warm-up round's last thread may still have had its entry at the baseline.
  EXPECT_LE(CountEntries("/proc/self/task"), threads);
}

class WellKnownTest : public FixturesTest {
 protected:
  // Get sends one GET over TLS and returns the whole response as received.
  std::string Get(uint16_t port, const std::string& target, Millis timeout = kDefaultTimeout) {
    std::string error;
    std::unique_ptr<TlsConnection> conn = Connect(port, "example.org", &error);
    EXPECT_TRUE(conn) << error;
    if (!conn) return "";
    EXPECT_TRUE(conn->WriteAll("GET " + target + " HTTP/1.1\r\nHost: example.org\r\n\r\n"));
    std::string response;
    conn->ReadUntilClose(&response, timeout);
    return response;
  }
};

TEST_F(WellKnownTest, ServesConfiguredBodyAndDefault404) {
  WellKnownServer server(Leaf("example.org"));
  const std::string path = "/.well-known/service/xmpp-client";
  const std::string doc = R"([{"host":"xmpp.example.com","port":5223}])";
  server.Set(path, {.headers = {{"Cache-Control", "max-age=60"}}, .body = doc});

  std::string response = Get(server.port(), path + "?x=1");
  size_t head_end = FindHeadEnd(response);
  ASSERT_NE(head_end, std::string::npos) << response;
  std::optional<HttpHead> head = ParseHttpHead(response.substr(0, head_end));
  ASSERT_TRUE(head);
  EXPECT_EQ(head->start_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(head->Header("content-length"), std::to_string(doc.size()));
  EXPECT_EQ(head->Header("cache-control"), "max-age=60");
  EXPECT_EQ(head->Header("connection"), "close");
  EXPECT_EQ(response.substr(head_end), doc);

  EXPECT_TRUE(Get(server.port(), "/.well-known/service/other").starts_with("HTTP/1.1 404 "));
  EXPECT_EQ(server.Requests(path), 1);
  EXPECT_EQ(server.Requests("/.well-known/service/other"), 1);
  EXPECT_EQ(server.Requests("/never"), 0);
  EXPECT_EQ(server.TotalRequests(), 2);
  std::vector<WellKnownServer::Request> requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, path + "?x=1");
  EXPECT_EQ(requests[0].sni, "example.org");
  EXPECT_EQ(FindHeader(requests[0].headers, "host"), "example.org");
}

TEST_F(WellKnownTest, RawDelayedAndSilentResponses) {
  WellKnownServer server(Leaf("example.org"));
  server.Set("/raw", {.raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"});
  server.Set("/slow", {.body = "late", .delay_ms = 300});
  server.Set("/silent", {.never_answer = true});

  EXPECT_EQ(Get(server.port(), "/raw"),
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  auto start = steady_clock::now();
  EXPECT_TRUE(Get(server.port(), "/slow").ends_with("\r\n\r\nlate"));
  EXPECT_GE(steady_clock::now() - start, Millis(300));
  EXPECT_EQ(Get(server.port(), "/silent", Millis(300)), "");
  EXPECT_TRUE(server.WaitForRequests("/silent", 1));
}

}  // namespace
}  // namespace deputy::test
