#include "bench/deputy_client.h"

#include <chrono>
#include <utility>

#include "bench/bench_world.h"
#include "bench/transfer.h"
#include "bench/transport.h"
#include "support/client.h"

namespace deputy::bench {

namespace {

using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

test::Socket OpenTunnel(uint16_t port, std::string* error) {
  test::Socket sock = test::ConnectTcp(port, kStepTimeout);
  if (!sock.valid()) {
    *error = "cannot connect to deputy on port " + std::to_string(port);
    return {};
  }
  if (!test::SendAll(sock.fd(), test::ConnectRequest(BenchWorld::kAuthority), kStepTimeout)) {
    *error = "cannot send CONNECT";
    return {};
  }
  std::string why;
  std::optional<test::HttpResponseHead> head =
      test::ReadHttpResponseHead(sock.fd(), kStepTimeout, &why);
  if (!head) {
    *error = "no answer to CONNECT: " + why;
    return {};
  }
  if (head->status != 200) {
    *error = "deputy answered " + std::to_string(head->status) +
             ", Proxy-Status: " + head->Header("proxy-status").value_or("none");
    return {};
  }
  if (!head->extra.empty()) {
    *error = "bytes arrived after the 200 before anything was sent";
    return {};
  }
  return sock;
}

double TimeTunnel(uint16_t port, std::string* error) {
  Clock::time_point start = Clock::now();
  test::Socket sock = OpenTunnel(port, error);
  double ms = MillisSince(start);
  if (!sock.valid()) return -1;
  PlainTransport tunnel(std::move(sock));
  if (!CloseGracefully(tunnel, kStepTimeout)) {
    *error = "tunnel did not close cleanly";
    return -1;
  }
  return ms;
}

}  // namespace deputy::bench
