// Every malformed or refused client request gets a proper status, a Proxy-Status header and a
// readable body before the connection closes.
#include <gtest/gtest.h>

#include "integration/world.h"

namespace deputy::test {
namespace {

class ClientErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    world_.config["listeners"][0]["header_timeout_ms"] = 300;
    world_.StartDeputy();
  }

  std::optional<HttpResponseHead> Send(const std::string& bytes) {
    client_ = ConnectTcp(world_.deputy->Port("connect"));
    EXPECT_TRUE(client_.valid());
    EXPECT_TRUE(SendAll(client_.fd(), bytes));
    std::string error;
    auto head = ReadHttpResponseHead(client_.fd(), kDefaultTimeout, &error);
    EXPECT_TRUE(head.has_value()) << error;
    return head;
  }

  World world_;
  Socket client_;
};

TEST_F(ClientErrorTest, MalformedRequestIs400) {
  ExpectRefusal(Send("THIS IS NOT HTTP\r\n\r\n"), 400, "http_request_error");
}

TEST_F(ClientErrorTest, GetIs405) {
  auto head = Send("GET / HTTP/1.1\r\nHost: example.org\r\n\r\n");
  ExpectRefusal(head, 405, "http_request_error");
  EXPECT_EQ(head->Header("allow").value_or(""), "CONNECT");
}

TEST_F(ClientErrorTest, NineKiBOfHeadersIs431) {
  ExpectRefusal(Send("CONNECT example.org:xmpp-client HTTP/1.1\r\nX-Filler: " +
                     std::string(9 * 1024, 'a') + "\r\n\r\n"),
                431, "http_request_error");
}

TEST_F(ClientErrorTest, UnfinishedHeadersTimeOutWith408) {
  ExpectRefusal(Send("CONNECT example.org:xmpp-client HTTP/1.1\r\nHost: exa"), 408,
                "http_request_error");
}

TEST_F(ClientErrorTest, InvalidDomainIs400) {
  ExpectRefusal(Send(ConnectRequest("exa_mple..org:xmpp-client")), 400, "http_request_error");
  EXPECT_EQ(world_.well_known->TotalRequests(), 0);
}

TEST_F(ClientErrorTest, IpLiteralIs400) {
  ExpectRefusal(Send(ConnectRequest("127.0.0.1:443")), 400, "http_request_error");
}

TEST_F(ClientErrorTest, InvalidServiceIs400) {
  ExpectRefusal(Send(ConnectRequest("example.org:not_a_service!")), 400, "http_request_error");
  EXPECT_EQ(world_.well_known->TotalRequests(), 0);
}

TEST_F(ClientErrorTest, Http10ClientGetsAnHttp10Answer) {
  client_ = ConnectTcp(world_.deputy->Port("connect"));
  ASSERT_TRUE(SendAll(client_.fd(), "CONNECT bad_name:xmpp-client HTTP/1.0\r\n\r\n"));
  auto head = ReadHttpResponseHead(client_.fd());
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->version, "HTTP/1.0");
  EXPECT_EQ(head->status, 400);
}

TEST_F(ClientErrorTest, ErrorBodyIsOneLineAndTheConnectionEndsCleanly) {
  client_ = ConnectTcp(world_.deputy->Port("connect"));
  ASSERT_TRUE(SendAll(client_.fd(), "GET / HTTP/1.1\r\n\r\n"));
  // The client keeps talking after its bad request; lingering close still lets it read the
  // whole answer and then a clean end of stream rather than a reset.
  ASSERT_TRUE(SendAll(client_.fd(), std::string(32 * 1024, 'x')));
  Received all = RecvUntilClose(client_.fd());
  EXPECT_EQ(all.end, RecvEnd::kEof);
  size_t body_at = all.data.find("\r\n\r\n");
  ASSERT_NE(body_at, std::string::npos);
  std::string body = all.data.substr(body_at + 4);
  ASSERT_FALSE(body.empty());
  EXPECT_EQ(body.find('\n'), body.size() - 1) << body;
}

}  // namespace
}  // namespace deputy::test
