#include "bench/phases.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <system_error>
#include <utility>

#include "bench/deputy_client.h"
#include "bench/transfer.h"
#include "support/client.h"
#include "support/random_data.h"

namespace deputy::bench {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kPatternBytes = 1 << 20;
constexpr double kMiB = 1024.0 * 1024.0;
// Connections opened and closed before timing starts: the first tunnel fetches the delegation
// document, the first handshakes fill caches of the CPU and the allocator.
constexpr int kWarmUps = 3;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// TimeDirect is TimeTunnel for a direct TLS connection to the echo server.
double TimeDirect(const BenchWorld& world, const DirectTlsClient& direct, std::string* error) {
  Clock::time_point start = Clock::now();
  std::unique_ptr<TlsTransport> conn =
      direct.Connect(world.echo_port(), BenchWorld::kUpstreamName, kStepTimeout, error);
  double ms = MillisSince(start);
  if (!conn) return -1;
  if (!CloseGracefully(*conn, kStepTimeout)) {
    *error = "direct TLS connection did not close cleanly";
    return -1;
  }
  return ms;
}

// RunTransfer echoes `bytes` over `transport` and closes it; MiB/s, or negative on failure.
double RunTransfer(Transport& transport, const std::string& pattern, uint64_t bytes,
                   std::string* error) {
  // Even 10 MiB/s finishes in time; a stall still ends the run.
  test::Millis timeout(30000 + bytes / (1 << 20) * 100);
  double seconds = EchoTransfer(transport, pattern, bytes, timeout, error);
  if (seconds < 0) return -1;
  if (!CloseGracefully(transport, kStepTimeout)) {
    *error = "connection did not close cleanly after the transfer";
    return -1;
  }
  return static_cast<double>(bytes) / kMiB / seconds;
}

// OpenFds counts the descriptors `pid` holds, -1 if /proc does not tell.
int OpenFds(pid_t pid) {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec);
  if (ec) return -1;
  int count = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return -1;
    ++count;
  }
  return count;
}

// EchoOnce sends one line through an open tunnel and checks it comes back.
bool EchoOnce(int fd, const std::string& line) {
  if (!test::SendAll(fd, line, kStepTimeout)) return false;
  test::Received back = test::RecvExact(fd, line.size(), kStepTimeout);
  return back.end == test::RecvEnd::kData && back.data == line;
}

}  // namespace

bool MeasureThroughput(const BenchWorld& world, const test::DeputyProcess& deputy,
                       const DirectTlsClient& direct, uint64_t bytes, int repeats,
                       ThroughputSamples* samples, std::string* error) {
  const std::string pattern = test::RandomBytes(kPatternBytes);
  for (int i = 0; i < repeats; ++i) {
    test::Socket sock = OpenTunnel(deputy.Port("connect"), error);
    if (!sock.valid()) return false;
    PlainTransport tunnel(std::move(sock));
    double cpu_before = CpuSeconds(deputy.pid());
    double through_deputy = RunTransfer(tunnel, pattern, bytes, error);
    if (through_deputy < 0) {
      *error = "through deputy: " + *error;
      return false;
    }
    samples->deputy_cpu_seconds += CpuSeconds(deputy.pid()) - cpu_before;
    samples->deputy_wall_seconds += static_cast<double>(bytes) / kMiB / through_deputy;
    samples->deputy_mib_s.push_back(through_deputy);

    std::unique_ptr<TlsTransport> conn =
        direct.Connect(world.echo_port(), BenchWorld::kUpstreamName, kStepTimeout, error);
    if (!conn) return false;
    double direct_rate = RunTransfer(*conn, pattern, bytes, error);
    if (direct_rate < 0) {
      *error = "direct TLS: " + *error;
      return false;
    }
    samples->direct_mib_s.push_back(direct_rate);
  }
  return true;
}

bool MeasureSetup(const BenchWorld& world, const test::DeputyProcess& deputy,
                  const DirectTlsClient& direct, int count, SetupSamples* samples,
                  std::string* error) {
  uint16_t port = deputy.Port("connect");
  for (int i = 0; i < kWarmUps + count; ++i) {
    double tunnel_ms = TimeTunnel(port, error);
    if (tunnel_ms < 0) return false;
    double direct_ms = TimeDirect(world, direct, error);
    if (direct_ms < 0) return false;
    if (i < kWarmUps) continue;
    samples->deputy_ms.push_back(tunnel_ms);
    samples->direct_ms.push_back(direct_ms);
  }
  return true;
}

bool MeasureIdleMemory(const BenchWorld& world, int tunnels, IdleMemory* memory,
                       std::string* error) {
  std::unique_ptr<test::DeputyProcess> deputy = world.StartDeputy(error);
  if (!deputy) return false;
  uint16_t port = deputy->Port("connect");
  for (int i = 0; i < kWarmUps; ++i) {
    test::Socket sock = OpenTunnel(port, error);
    if (!sock.valid()) return false;
    if (!EchoOnce(sock.fd(), "warm-up\n")) {
      *error = "warm-up echo failed";
      return false;
    }
    PlainTransport tunnel(std::move(sock));
    if (!CloseGracefully(tunnel, kStepTimeout)) {
      *error = "warm-up tunnel did not close cleanly";
      return false;
    }
  }
  // The warm-up tunnels' access log lines mean deputy has finished with them.
  if (!deputy->WaitForAccessLogLines(kWarmUps, kStepTimeout)) {
    *error = "no access log lines for the warm-up tunnels";
    return false;
  }
  memory->tunnels = tunnels;
  memory->rss_before_kib = deputy->RssKiB();

  std::vector<test::Socket> open;
  open.reserve(static_cast<size_t>(tunnels));
  for (int i = 0; i < tunnels; ++i) {
    test::Socket sock = OpenTunnel(port, error);
    if (!sock.valid()) {
      *error = "tunnel " + std::to_string(i) + ": " + *error;
      return false;
    }
    if (!EchoOnce(sock.fd(), "idle tunnel " + std::to_string(i) + "\n")) {
      *error = "echo on tunnel " + std::to_string(i) + " failed";
      return false;
    }
    open.push_back(std::move(sock));
  }
  memory->rss_open_kib = deputy->RssKiB();
  memory->fds_open = OpenFds(deputy->pid());

  open.clear();
  if (deputy->WaitForAccessLogLines(static_cast<size_t>(kWarmUps + tunnels), test::Millis(60000))) {
    memory->rss_closed_kib = deputy->RssKiB();
  }
  if (memory->rss_before_kib < 0 || memory->rss_open_kib < 0) {
    *error = "cannot read deputy's RSS from /proc";
    return false;
  }
  return true;
}

}  // namespace deputy::bench
