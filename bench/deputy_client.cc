#include "bench/deputy_client.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
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

double CpuSeconds(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  // Fields after the command name, which may hold spaces, start past its closing parenthesis;
  // utime and stime are the 12th and 13th of them.
  size_t end = stat.rfind(')');
  if (end == std::string::npos) return -1;
  std::istringstream fields(stat.substr(end + 1));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int i = 1; i <= 11; ++i) fields >> field;
  if (!(fields >> utime >> stime)) return -1;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace deputy::bench
