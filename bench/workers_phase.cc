#include "bench/workers_phase.h"

#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "bench/deputy_client.h"
#include "bench/transfer.h"
#include "bench/transport.h"
#include "support/random_data.h"

namespace deputy::bench {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kPatternBytes = 1 << 20;
constexpr double kMiB = 1024.0 * 1024.0;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// FirstError keeps the first failure any client thread reports.
class FirstError {
 public:
  void Set(std::string error) {
    std::lock_guard lock(mutex_);
    if (error_.empty()) error_ = std::move(error);
  }
  bool Take(std::string* error) {
    std::lock_guard lock(mutex_);
    if (error_.empty()) return false;
    *error = error_;
    return true;
  }

 private:
  std::mutex mutex_;
  std::string error_;
};

// Bulk echoes `load.bytes_each` over one tunnel per client, all at once; returns the wall time.
double Bulk(const test::DeputyProcess& deputy, const WorkersLoad& load, std::string* error) {
  const std::string pattern = test::RandomBytes(kPatternBytes);
  std::vector<std::unique_ptr<PlainTransport>> tunnels;
  for (int i = 0; i < load.clients; ++i) {
    test::Socket sock = OpenTunnel(deputy.Port("connect"), error);
    if (!sock.valid()) return -1;
    tunnels.push_back(std::make_unique<PlainTransport>(std::move(sock)));
  }
  FirstError failed;
  std::latch go(1);
  std::vector<std::thread> clients;
  for (std::unique_ptr<PlainTransport>& tunnel : tunnels) {
    clients.emplace_back([&, transport = tunnel.get()] {
      go.wait();
      std::string why;
      test::Millis timeout(30000 + load.bytes_each / (1 << 20) * 100);
      if (EchoTransfer(*transport, pattern, load.bytes_each, timeout, &why) < 0) {
        failed.Set("echo: " + why);
      } else if (!CloseGracefully(*transport, kStepTimeout)) {
        failed.Set("a tunnel did not close cleanly after its transfer");
      }
    });
  }
  const Clock::time_point start = Clock::now();
  go.count_down();
  for (std::thread& client : clients) client.join();
  const double seconds = SecondsSince(start);
  return failed.Take(error) ? -1 : seconds;
}

// Connects opens and closes tunnels from every client until `load.connect_seconds` have passed;
// returns how many, or -1.
long Connects(const test::DeputyProcess& deputy, const WorkersLoad& load, double* seconds,
              std::string* error) {
  FirstError failed;
  std::atomic<long> done{0};
  std::latch go(1);
  const auto length = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(load.connect_seconds));
  std::vector<std::thread> clients;
  Clock::time_point start;
  for (int i = 0; i < load.clients; ++i) {
    clients.emplace_back([&] {
      go.wait();
      const Clock::time_point end = start + length;
      std::string why;
      while (Clock::now() < end) {
        if (TimeTunnel(deputy.Port("connect"), &why) < 0) {
          failed.Set(why);
          return;
        }
        done.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  start = Clock::now();
  go.count_down();
  for (std::thread& client : clients) client.join();
  *seconds = SecondsSince(start);
  return failed.Take(error) ? -1 : done.load();
}

}  // namespace

bool MeasureWorkers(const BenchWorld& world, unsigned workers, const WorkersLoad& load,
                    WorkersRun* run, std::string* error) {
  std::unique_ptr<test::DeputyProcess> deputy = world.StartDeputy(error, workers);
  if (!deputy) return false;
  run->workers = workers;
  // The first tunnel fetches the delegation document; the rest hit the cache.
  if (TimeTunnel(deputy->Port("connect"), error) < 0) return false;

  double cpu = CpuSeconds(deputy->pid());
  const double bulk_seconds = Bulk(*deputy, load, error);
  if (bulk_seconds < 0) return false;
  run->bulk_cores = (CpuSeconds(deputy->pid()) - cpu) / bulk_seconds;
  run->mib_s = static_cast<double>(load.bytes_each) * load.clients / kMiB / bulk_seconds;

  cpu = CpuSeconds(deputy->pid());
  double connect_seconds = 0;
  const long connects = Connects(*deputy, load, &connect_seconds, error);
  if (connects < 0) return false;
  run->connect_cores = (CpuSeconds(deputy->pid()) - cpu) / connect_seconds;
  run->conns_s = static_cast<double>(connects) / connect_seconds;

  const size_t sessions = static_cast<size_t>(1 + load.clients + connects);
  if (!deputy->WaitForAccessLogLines(sessions, test::Millis(30000))) {
    *error = "deputy logged fewer sessions than the clients ran";
    return false;
  }
  for (const nlohmann::json& line : deputy->AccessLog()) {
    ++run->sessions_by_worker[line.value("worker", 0u)];
  }
  return true;
}

}  // namespace deputy::bench
