// deputy-bench: measures, on loopback and in one run, what a tunnel through deputy costs next to
// a direct TLS connection to the same echo server: bulk throughput, connection setup latency and
// the memory an idle tunnel holds; then the same deputy with 1 worker against N workers, under
// concurrent bulk transfers and a stream of new tunnels. A benchmark, not a test: it prints
// numbers and judges none.

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "bench/bench_world.h"
#include "bench/phases.h"
#include "bench/stats.h"
#include "bench/transport.h"
#include "bench/workers_phase.h"
#include "support/socket.h"

namespace deputy::bench {
namespace {

struct Flags {
  int mib = 512;
  int tunnels = 200;
  int idle = 1000;
  int repeats = 3;
  unsigned workers = std::max(1u, std::thread::hardware_concurrency());
  WorkersLoad workers_load;
};

// WorkersSamples holds the workers phase's runs, alternating 1 worker and N.
struct WorkersSamples {
  std::vector<WorkersRun> one;
  std::vector<WorkersRun> many;
};

double MedianOf(const std::vector<WorkersRun>& runs, double WorkersRun::*field) {
  std::vector<double> values;
  for (const WorkersRun& run : runs) values.push_back(run.*field);
  return Median(values);
}

std::string Spread(const WorkersRun& run) {
  std::string out;
  for (const auto& [worker, sessions] : run.sessions_by_worker) {
    out += (out.empty() ? "" : " / ") + std::to_string(sessions);
  }
  return out;
}

// Descriptors each process needs besides two per idle tunnel: listeners, pipes, the
// well-known server and the tunnels still closing from earlier phases.
constexpr rlim_t kFdHeadroom = 512;

// RaiseFdLimit lifts the soft descriptor limit to the hard one (deputy inherits it) and checks
// that `idle` tunnels fit: two descriptors each in deputy, and in this process the client
// socket plus the echo server's socket.
bool RaiseFdLimit(int idle, std::string* error) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    *error = "getrlimit failed";
    return false;
  }
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    *error = "setrlimit failed";
    return false;
  }
  rlim_t needed = 2 * static_cast<rlim_t>(idle) + kFdHeadroom;
  if (limit.rlim_cur != RLIM_INFINITY && needed > limit.rlim_cur) {
    *error = "--idle " + std::to_string(idle) + " needs about " + std::to_string(needed) +
             " descriptors per process; the limit is " + std::to_string(limit.rlim_cur);
    return false;
  }
  return true;
}

void Progress(const std::string& text) {
  std::fprintf(stderr, "deputy-bench: %s\n", text.c_str());
  std::fflush(stderr);
}

std::string Fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", decimals, value);
  return text;
}

// Rounded keeps `decimals` places, so the JSON line shows 0.512 rather than 0.51200000000000001.
double Rounded(double value, int decimals) {
  double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

std::string Today() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d", &local);
  return text;
}

std::string Samples(const std::vector<double>& values) {
  std::string out;
  for (double v : values) out += (out.empty() ? "" : " ") + Fixed(v, 1);
  return out;
}

void Row(const char* label, double deputy, double direct, int decimals) {
  std::printf("  %-34s %12s %12s %10s\n", label, Fixed(deputy, decimals).c_str(),
              Fixed(direct, decimals).c_str(), Fixed(deputy / direct, 2).c_str());
}

void ReportWorkers(const Flags& flags, const WorkersSamples& samples) {
  const WorkersLoad& load = flags.workers_load;
  std::printf(
      "  workers: %d clients at once, each echoing %llu MiB over its own tunnel, then each\n"
      "  opening and closing tunnels for %.0f s (median of %d runs each, alternating)\n\n",
      load.clients, static_cast<unsigned long long>(load.bytes_each >> 20), load.connect_seconds,
      flags.repeats);
  std::printf("  %-10s %10s %12s %22s   %s\n", "workers", "MiB/s", "tunnels/s",
              "deputy cores bulk/conn", "sessions per worker (last run)");
  for (const std::vector<WorkersRun>* runs : {&samples.one, &samples.many}) {
    const WorkersRun& last = runs->back();
    std::printf("  %-10u %10s %12s %15s / %-4s   %s\n", last.workers,
                Fixed(MedianOf(*runs, &WorkersRun::mib_s), 1).c_str(),
                Fixed(MedianOf(*runs, &WorkersRun::conns_s), 0).c_str(),
                Fixed(MedianOf(*runs, &WorkersRun::bulk_cores), 2).c_str(),
                Fixed(MedianOf(*runs, &WorkersRun::connect_cores), 2).c_str(),
                Spread(last).c_str());
  }
  std::printf(
      "  %-10s %10s %12s\n\n", "ratio",
      Fixed(MedianOf(samples.many, &WorkersRun::mib_s) / MedianOf(samples.one, &WorkersRun::mib_s),
            2)
          .c_str(),
      Fixed(MedianOf(samples.many, &WorkersRun::conns_s) /
                MedianOf(samples.one, &WorkersRun::conns_s),
            2)
          .c_str());
}

void Report(const Flags& flags, const ThroughputSamples& throughput, const SetupSamples& setup,
            const IdleMemory& idle, const WorkersSamples& workers) {
  double deputy_rate = Median(throughput.deputy_mib_s);
  double direct_rate = Median(throughput.direct_mib_s);
  double deputy_p50 = Percentile(setup.deputy_ms, 50);
  double deputy_p99 = Percentile(setup.deputy_ms, 99);
  double direct_p50 = Percentile(setup.direct_ms, 50);
  double direct_p99 = Percentile(setup.direct_ms, 99);

  std::printf("\ndeputy-bench %s, loopback, %u CPUs\n\n", Today().c_str(),
              std::thread::hardware_concurrency());
  std::printf("  %-34s %12s %12s %10s\n", "", "via deputy", "direct TLS", "ratio");
  std::string label = "echo " + std::to_string(flags.mib) + " MiB, MiB/s (median of " +
                      std::to_string(flags.repeats) + ")";
  Row(label.c_str(), deputy_rate, direct_rate, 1);
  label = "setup p50 ms (" + std::to_string(flags.tunnels) + " sequential)";
  Row(label.c_str(), deputy_p50, direct_p50, 3);
  Row("setup p99 ms", deputy_p99, direct_p99, 3);
  std::printf("\n  throughput runs, MiB/s: via deputy %s; direct %s\n",
              Samples(throughput.deputy_mib_s).c_str(), Samples(throughput.direct_mib_s).c_str());
  double cpu_share = throughput.deputy_cpu_seconds / throughput.deputy_wall_seconds;
  double cpu_ms_per_mib =
      1000 * throughput.deputy_cpu_seconds / (static_cast<double>(flags.mib) * flags.repeats);
  std::printf("  deputy CPU while tunnelling: %s%% of one core, %s CPU-ms per MiB echoed\n",
              Fixed(100 * cpu_share, 0).c_str(), Fixed(cpu_ms_per_mib, 2).c_str());
  std::printf(
      "  idle tunnels: %d open, deputy RSS %ld KiB before, %ld KiB with them open "
      "=> %s KiB per tunnel\n",
      idle.tunnels, idle.rss_before_kib, idle.rss_open_kib, Fixed(idle.KibPerTunnel(), 1).c_str());
  std::printf("  deputy descriptors with them open: %d; RSS after they closed: %ld KiB\n\n",
              idle.fds_open, idle.rss_closed_kib);
  if (!workers.many.empty()) ReportWorkers(flags, workers);

  nlohmann::ordered_json summary = {
      {"throughput_ratio", Rounded(deputy_rate / direct_rate, 3)},
      {"setup_p50_ms", Rounded(deputy_p50, 3)},
      {"idle_kib_per_tunnel", Rounded(idle.KibPerTunnel(), 1)},
      {"throughput_deputy_mib_s", Rounded(deputy_rate, 1)},
      {"throughput_direct_mib_s", Rounded(direct_rate, 1)},
      {"setup_p99_ms", Rounded(deputy_p99, 3)},
      {"direct_setup_p50_ms", Rounded(direct_p50, 3)},
      {"direct_setup_p99_ms", Rounded(direct_p99, 3)},
      {"setup_ratio_p50", Rounded(deputy_p50 / direct_p50, 3)},
      {"mib", flags.mib},
      {"repeats", flags.repeats},
      {"tunnels", flags.tunnels},
      {"idle", flags.idle},
  };
  if (!workers.many.empty()) {
    summary["workers"] = flags.workers;
    summary["workers_1_mib_s"] = Rounded(MedianOf(workers.one, &WorkersRun::mib_s), 1);
    summary["workers_n_mib_s"] = Rounded(MedianOf(workers.many, &WorkersRun::mib_s), 1);
    summary["workers_1_conns_s"] = Rounded(MedianOf(workers.one, &WorkersRun::conns_s), 0);
    summary["workers_n_conns_s"] = Rounded(MedianOf(workers.many, &WorkersRun::conns_s), 0);
  }
  std::printf("%s\n", summary.dump().c_str());
  std::fflush(stdout);
}

int Run(const Flags& flags) {
  std::string error;
  if (!RaiseFdLimit(flags.idle, &error)) {
    Progress(error);
    return 2;
  }
  test::IgnoreSigpipe();
  // Room for every idle tunnel plus those of earlier phases that are still closing.
  BenchWorld world(flags.idle + 64);
  DirectTlsClient direct(world.ca().cert_pem());
  ThroughputSamples throughput;
  SetupSamples setup;
  IdleMemory idle;
  {
    std::unique_ptr<test::DeputyProcess> deputy = world.StartDeputy(&error);
    if (!deputy) {
      Progress("deputy did not start: " + error);
      return 1;
    }
    Progress("setup latency: " + std::to_string(flags.tunnels) + " sequential tunnels");
    if (!MeasureSetup(world, *deputy, direct, flags.tunnels, &setup, &error)) {
      Progress("setup phase failed: " + error);
      return 1;
    }
    Progress("throughput: " + std::to_string(flags.mib) + " MiB echoed, " +
             std::to_string(flags.repeats) + " times each way");
    uint64_t bytes = static_cast<uint64_t>(flags.mib) << 20;
    if (!MeasureThroughput(world, *deputy, direct, bytes, flags.repeats, &throughput, &error)) {
      Progress("throughput phase failed: " + error);
      return 1;
    }
  }
  Progress("idle memory: " + std::to_string(flags.idle) + " tunnels, fresh deputy");
  if (!MeasureIdleMemory(world, flags.idle, &idle, &error)) {
    Progress("idle phase failed: " + error);
    return 1;
  }
  WorkersSamples workers;
  if (flags.workers > 1) {
    Progress("workers: 1 against " + std::to_string(flags.workers) + ", " +
             std::to_string(flags.repeats) + " runs each");
    for (int i = 0; i < flags.repeats; ++i) {
      for (unsigned count : {1u, flags.workers}) {
        WorkersRun run;
        if (!MeasureWorkers(world, count, flags.workers_load, &run, &error)) {
          Progress("workers phase failed (" + std::to_string(count) + " workers): " + error);
          return 1;
        }
        (count == 1 ? workers.one : workers.many).push_back(std::move(run));
      }
    }
  }
  Report(flags, throughput, setup, idle, workers);
  return 0;
}

}  // namespace
}  // namespace deputy::bench

int main(int argc, char** argv) {
  deputy::bench::Flags flags;
  CLI::App app("deputy-bench: deputy tunnel vs direct TLS on loopback");
  app.add_option("--mib", flags.mib, "MiB echoed per throughput run")->check(CLI::Range(1, 65536));
  app.add_option("--tunnels", flags.tunnels, "sequential tunnels timed for setup latency")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--idle", flags.idle, "idle tunnels held open for the memory measurement")
      ->check(CLI::Range(1, 100000));
  app.add_option("--repeats", flags.repeats, "throughput runs each way (median reported)")
      ->check(CLI::Range(1, 100));
  app.add_option("--workers", flags.workers,
                 "workers compared with 1 in the workers phase (1 skips it; default: CPUs)")
      ->check(CLI::Range(1u, 1024u));
  app.add_option("--clients", flags.workers_load.clients, "concurrent clients in the workers phase")
      ->check(CLI::Range(1, 1000));
  int client_mib = 64;
  app.add_option("--client-mib", client_mib, "MiB each client echoes in the workers phase")
      ->check(CLI::Range(1, 65536));
  app.add_option("--connect-seconds", flags.workers_load.connect_seconds,
                 "how long the workers phase opens and closes tunnels")
      ->check(CLI::Range(0.1, 600.0));
  CLI11_PARSE(app, argc, argv);
  flags.workers_load.bytes_each = static_cast<uint64_t>(client_mib) << 20;
  try {
    return deputy::bench::Run(flags);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "deputy-bench: %s\n", e.what());
    return 1;
  }
}
