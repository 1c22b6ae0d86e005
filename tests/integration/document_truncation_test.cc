// Through a real deputy process: a delegation document is trusted only if its end is
// authenticated. A body with a Content-Length or chunked framing shows a cut by itself, so a
// server that skips TLS close_notify after one is accepted; a body that ends with the
// connection needs close_notify, or an attacker who cuts the TCP connection picks the document.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>

#include "integration/world.h"
#include "support/http_head.h"
#include "support/metric_wait.h"

namespace deputy::test {
namespace {

constexpr const char* kAuthority = "example.org:xmpp-client";

enum class End { kCloseNotify, kTcpFinOnly };

class DocumentTruncationTest : public ::testing::Test {
 protected:
  // ServeDocument starts a well-known server for example.org that answers every request with
  // `head` + `body` and then ends its side as `end` says, and points deputy's discovery at it.
  void ServeDocument(const std::string& head, const std::string& body, End end) {
    server_ = std::make_unique<TlsServer>(
        world_.ca.Issue(CertOptions{{"example.org"}}), [head, body, end](TlsConnection& conn) {
          std::string request;
          if (!ReadHeadFrom(conn, &request)) return;
          if (!conn.WriteAll(head + body)) return;
          if (end == End::kCloseNotify) {
            if (!conn.ShutdownWrite()) return;
          } else {
            shutdown(conn.fd(), SHUT_WR);  // a TCP FIN with no close_notify before it
          }
          std::string rest;
          conn.ReadUntilClose(&rest);
        });
    world_.config["discovery"]["url_template"] =
        "https://{domain}:" + std::to_string(server_->port()) + "/.well-known/service/{service}";
  }

  std::string Document() {
    echo_ = world_.EchoServer({"example.com"});
    return nlohmann::json::array({World::Entry("xmpp.example.com", echo_->port(), "example.com")})
        .dump();
  }

  World world_;
  std::unique_ptr<TlsServer> echo_;
  std::unique_ptr<TlsServer> server_;
};

TEST_F(DocumentTruncationTest, LengthFramedDocumentWithoutCloseNotifyIsUsed) {
  std::string body = Document();
  ServeDocument("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n",
                body, End::kTcpFinOnly);
  world_.StartDeputy();
  world_.ExpectTunnel(kAuthority);
}

TEST_F(DocumentTruncationTest, ChunkedDocumentWithoutCloseNotifyIsUsed) {
  std::string body = Document();
  char size[16];
  snprintf(size, sizeof(size), "%zx", body.size());
  ServeDocument(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
      "Connection: close\r\n\r\n",
      std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n", End::kTcpFinOnly);
  world_.StartDeputy();
  world_.ExpectTunnel(kAuthority);
}

TEST_F(DocumentTruncationTest, CloseDelimitedDocumentWithCloseNotifyIsUsed) {
  ServeDocument("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
                Document(), End::kCloseNotify);
  world_.StartDeputy();
  world_.ExpectTunnel(kAuthority);
}

TEST_F(DocumentTruncationTest, CloseDelimitedDocumentWithoutCloseNotifyIsRefusedAndNotCached) {
  // A complete, valid document: only the missing close_notify makes it untrustworthy.
  ServeDocument("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
                Document(), End::kTcpFinOnly);
  DeputyProcess& deputy = world_.StartDeputy();
  for (uint64_t attempt = 1; attempt <= 2; ++attempt) {
    World::Opened opened = world_.OpenTunnel(kAuthority);
    ExpectRefusal(opened.head, 502, "http_response_incomplete");
    if (opened.head) {
      EXPECT_NE(opened.head->Header("proxy-status").value_or("").find("close_notify"),
                std::string::npos);
    }
    EXPECT_EQ(server_->handshakes().value(), attempt);
  }
  EXPECT_EQ(ScrapeMetric(deputy.Port("admin"), "deputy_delegation_cache_entries"), 0);
  EXPECT_EQ(echo_->accepted().value(), 0u);
}

}  // namespace
}  // namespace deputy::test
