// A target's addresses race as RFC 8305 says, with real sockets on ::1 and 127.0.0.1: an IPv6
// address that never answers costs IPv4 the stagger, not the connect timeout; one that refuses
// moves on at once; the first to verify carries the connection and the loser is closed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loop/event_loop.h"
#include "loop/timer.h"
#include "net/destination_guard.h"
#include "net/dns_resolver.h"
#include "net/ip_network.h"
#include "support/socket.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"
#include "support/tls_server.h"
#include "tls/tls_connector.h"
#include "tls/tls_context.h"

namespace deputy {
namespace {

using Clock = std::chrono::steady_clock;

// BindV6 binds a TCP socket to [::1]:port (IPv6 only, so 127.0.0.1:port stays another socket).
test::Socket BindV6(uint16_t port) {
  test::Socket sock(socket(AF_INET6, SOCK_STREAM, 0));
  int on = 1;
  setsockopt(sock.fd(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  address.sin6_port = htons(port);
  if (bind(sock.fd(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return {};
  return sock;
}

// BlackHole is a listener on [::1]:port whose accept queue is full: Linux drops every further
// SYN, so a connect to it neither succeeds nor fails until its timeout, as on a broken route.
// A backlog of 0 holds one connection; one blocking connect fills it.
struct BlackHole {
  explicit BlackHole(uint16_t port) : listener(BindV6(port)) {
    if (!listener.valid() || listen(listener.fd(), 0) != 0) return;
    filler = test::Socket(socket(AF_INET6, SOCK_STREAM, 0));
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_addr = in6addr_loopback;
    address.sin6_port = htons(port);
    filled = connect(filler.fd(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  test::Socket listener;
  test::Socket filler;
  bool filled = false;
};

class HappyEyeballsTest : public ::testing::Test {
 protected:
  HappyEyeballsTest()
      : ca_file_(ca_.WriteCertFile(dir_.path())),
        server_(ca_.Issue(test::CertOptions{{"dual.example"}}), [](test::TlsConnection&) {}),
        resolver_(loop_, DnsSettings{.hosts = {{"dual.example", {"::1", "127.0.0.1"}}}}) {}

  void SetUp() override {
    auto ctx = TlsClientContext::Create(ca_file_, TlsVersion::kTls12, "");
    ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
    ctx_ = std::make_unique<TlsClientContext>(std::move(ctx).value());
  }

  // Connect races dual.example's addresses on the server's port and runs the loop until the
  // attempt ends (or 30 s pass).
  std::optional<Result<TlsConnection>> Connect(ConnectTimeouts timeouts) {
    attempt_ = std::make_unique<TlsConnectAttempt>(loop_, resolver_, guard_, ctx_->get(), timeouts);
    std::optional<Result<TlsConnection>> result;
    Timer guard(loop_, [this] { loop_.Stop(); });
    guard.Start(30000);
    started_ = Clock::now();
    attempt_->Start("dual.example", server_.port(), "dual.example",
                    [&](Result<TlsConnection> connection) {
                      took_ = Clock::now() - started_;
                      result.emplace(std::move(connection));
                      loop_.Stop();
                    });
    loop_.Run();
    return result;
  }

  long took_ms() const {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(took_).count());
  }

  test::TestCa ca_;
  test::TempDir dir_;
  std::string ca_file_;
  test::TlsServer server_;  // on 127.0.0.1
  EventLoop loop_;
  DnsResolver resolver_;
  DestinationGuard guard_{
      {ParseIpNetwork("127.0.0.0/8").value(), ParseIpNetwork("::1/128").value()}, {}};
  std::unique_ptr<TlsClientContext> ctx_;
  std::unique_ptr<TlsConnectAttempt> attempt_;
  Clock::time_point started_;
  Clock::duration took_{};
};

TEST_F(HappyEyeballsTest, ABlackHoledIpv6AddressDelaysIpv4ByTheStaggerNotTheConnectTimeout) {
  BlackHole hole(server_.port());
  ASSERT_TRUE(hole.filled) << "cannot fill an accept queue on [::1]:" << server_.port();

  std::optional<Result<TlsConnection>> result =
      Connect(ConnectTimeouts{.connect_ms = 20000, .handshake_ms = 20000, .stagger_ms = 250});
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->ok()) << result->status().ToString();
  EXPECT_EQ((*result)->endpoint.ToString(), "127.0.0.1:" + std::to_string(server_.port()));
  EXPECT_EQ(attempt_->connects(), 2u);  // IPv6 first, then IPv4 beside it
  EXPECT_GE(took_ms(), 240) << "IPv4 started before the stagger";
  EXPECT_LT(took_ms(), 5000) << "IPv4 waited for the IPv6 connect timeout";
}

TEST_F(HappyEyeballsTest, ARefusingIpv6AddressMovesOnAtOnce) {
  test::Socket closed = BindV6(server_.port());  // bound, not listening: connects are refused
  ASSERT_TRUE(closed.valid());
  std::vector<std::string> failures;
  std::optional<Result<TlsConnection>> result;
  attempt_ = std::make_unique<TlsConnectAttempt>(
      loop_, resolver_, guard_, ctx_->get(),
      ConnectTimeouts{.connect_ms = 20000, .handshake_ms = 20000, .stagger_ms = 2000});
  Timer guard(loop_, [this] { loop_.Stop(); });
  guard.Start(30000);
  const Clock::time_point start = Clock::now();
  attempt_->Start(
      "dual.example", server_.port(), "dual.example",
      [&](Result<TlsConnection> connection) {
        took_ = Clock::now() - start;
        result.emplace(std::move(connection));
        loop_.Stop();
      },
      [&](const std::string& where, const Status& status) {
        failures.push_back(where + ": " + status.message());
      });
  loop_.Run();
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->ok()) << result->status().ToString();
  EXPECT_EQ((*result)->endpoint.ToString(), "127.0.0.1:" + std::to_string(server_.port()));
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find("[::1]"), std::string::npos) << failures[0];
  EXPECT_LT(took_ms(), 1500) << "the refused address waited for the 2000 ms stagger";
}

TEST_F(HappyEyeballsTest, TheFirstToVerifyWinsAndTheLoserIsClosed) {
  // [::1] accepts TCP (the kernel completes it) but never speaks TLS.
  test::Socket mute = BindV6(server_.port());
  ASSERT_TRUE(mute.valid());
  ASSERT_EQ(listen(mute.fd(), 16), 0);

  std::optional<Result<TlsConnection>> result =
      Connect(ConnectTimeouts{.connect_ms = 20000, .handshake_ms = 20000, .stagger_ms = 100});
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->ok()) << result->status().ToString();
  EXPECT_EQ((*result)->endpoint.ToString(), "127.0.0.1:" + std::to_string(server_.port()));
  EXPECT_EQ(attempt_->connects(), 2u);

  // The IPv6 connection that lost: its ClientHello arrived, then its end.
  pollfd ready{mute.fd(), POLLIN, 0};
  ASSERT_EQ(poll(&ready, 1, 5000), 1);
  test::Socket loser(accept(mute.fd(), nullptr, nullptr));
  ASSERT_TRUE(loser.valid());
  ssize_t n = 0;
  char buffer[4096];
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(5);
  do {
    pollfd readable{loser.fd(), POLLIN, 0};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    ASSERT_EQ(poll(&readable, 1, static_cast<int>(std::max<long>(left, 0))), 1)
        << "the losing connection is still open";
    n = read(loser.fd(), buffer, sizeof buffer);
  } while (n > 0);
  EXPECT_LE(n, 0);
}

}  // namespace
}  // namespace deputy
