#include "support/client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "support/tcp_server.h"

namespace deputy::test {
namespace {

// Replier answers every connection with `reply` after reading a request head, then closes.
TcpServer::Handler Replier(std::string reply) {
  return [reply = std::move(reply)](TcpConnection& conn) {
    std::string request;
    if (!ReadHeadFrom(conn, &request)) return;
    conn.WriteAll(reply);
    conn.ShutdownWrite();
    conn.WaitForPeerClose();
  };
}

TEST(Client, ConnectToAClosedPortFails) {
  uint16_t port = 0;
  Socket reserved = ReserveClosedPort(&port);
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(ConnectTcp(port).valid());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(Client, ReceiveEndsAreTellable) {
  TcpServer closer(TcpServer::CloseAtOnce());
  // Resets once the client has spoken, so the reset cannot race the client's connect.
  TcpServer resetter([](TcpConnection& conn) {
    char byte;
    if (conn.ReadSome(&byte, 1) == 1) conn.CloseWithReset();
  });
  TcpServer silent(TcpServer::HoldOpen());

  Socket a = ConnectTcp(closer.port());
  ASSERT_TRUE(a.valid());
  EXPECT_EQ(RecvUntilClose(a.fd()).end, RecvEnd::kEof);

  Socket b = ConnectTcp(resetter.port());
  ASSERT_TRUE(b.valid());
  ASSERT_TRUE(SendAll(b.fd(), "x"));
  EXPECT_EQ(RecvUntilClose(b.fd()).end, RecvEnd::kReset);

  Socket c = ConnectTcp(silent.port());
  ASSERT_TRUE(c.valid());
  ASSERT_TRUE(SendAll(c.fd(), "ping"));
  EXPECT_EQ(RecvSome(c.fd(), Millis(200)).end, RecvEnd::kTimeout);
  EXPECT_TRUE(silent.bytes_received().WaitFor(4));
  ASSERT_TRUE(ShutdownWrite(c.fd()));
}

TEST(Client, ReadsAResponseHeadAndKeepsWhatFollows) {
  TcpServer server(
      Replier("HTTP/1.1 200 Connection established\r\nProxy-Agent: deputy\r\n\r\nearly bytes"));
  Socket sock = ConnectTcp(server.port());
  ASSERT_TRUE(sock.valid());
  ASSERT_TRUE(SendAll(sock.fd(), ConnectRequest("example.org:xmpp-client")));
  std::string error;
  std::optional<HttpResponseHead> head = ReadHttpResponseHead(sock.fd(), kDefaultTimeout, &error);
  ASSERT_TRUE(head) << error;
  EXPECT_EQ(head->version, "HTTP/1.1");
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->reason, "Connection established");
  EXPECT_EQ(head->Header("PROXY-AGENT"), "deputy");
  EXPECT_FALSE(head->Header("Via"));
  Received rest = RecvUntilClose(sock.fd());
  EXPECT_EQ(head->extra + rest.data, "early bytes");
}

TEST(Client, MalformedHeadIsReported) {
  TcpServer server(Replier("SSH-2.0-nope\r\n\r\n"));
  Socket sock = ConnectTcp(server.port());
  ASSERT_TRUE(SendAll(sock.fd(), "GET / HTTP/1.1\r\n\r\n"));
  std::string error;
  EXPECT_FALSE(ReadHttpResponseHead(sock.fd(), kDefaultTimeout, &error));
  EXPECT_NE(error.find("malformed"), std::string::npos) << error;
}

TEST(Client, HttpGetReadsLengthDelimitedAndChunkedBodies) {
  TcpServer sized(Replier("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"));
  std::optional<HttpResponse> a = HttpGet(sized.port(), "/healthz");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->head.status, 200);
  EXPECT_EQ(a->body, "hello");

  TcpServer chunked(
      Replier("HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n"
              "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  std::optional<HttpResponse> b = HttpGet(chunked.port(), "/metrics");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->head.status, 503);
  EXPECT_EQ(b->body, "abcde");
}

}  // namespace
}  // namespace deputy::test
