#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/bench_world.h"
#include "bench/transport.h"
#include "support/deputy_process.h"

namespace deputy::bench {

// Each phase measures deputy against the same work done over a direct TLS connection to the
// same echo server, alternating the two so that background load drifts hit both alike. A phase
// returns false, with `*error` set, when something failed (not when it was slow).

struct ThroughputSamples {
  std::vector<double> deputy_mib_s;
  std::vector<double> direct_mib_s;
  // deputy's CPU time (user + system) and the wall time of its transfers, summed over runs: how
  // close deputy came to saturating its one core.
  double deputy_cpu_seconds = 0;
  double deputy_wall_seconds = 0;
};

// MeasureThroughput echoes `bytes` through a fresh tunnel (plain TCP to deputy, TLS upstream)
// and through a fresh direct TLS connection, `repeats` times each; connection setup is not
// timed.
bool MeasureThroughput(const BenchWorld& world, const test::DeputyProcess& deputy,
                       const DirectTlsClient& direct, uint64_t bytes, int repeats,
                       ThroughputSamples* samples, std::string* error);

struct SetupSamples {
  std::vector<double> deputy_ms;  // connect() to the end of "200 Connection established"
  std::vector<double> direct_ms;  // connect() to a verified TLS handshake
};

// MeasureSetup opens `count` sequential tunnels with a warm delegation cache and as many direct
// TLS connections, each closed gracefully before the next.
bool MeasureSetup(const BenchWorld& world, const test::DeputyProcess& deputy,
                  const DirectTlsClient& direct, int count, SetupSamples* samples,
                  std::string* error);

struct IdleMemory {
  int tunnels = 0;
  long rss_before_kib = 0;   // after one warm-up tunnel, none open
  long rss_open_kib = 0;     // with `tunnels` idle tunnels open
  long rss_closed_kib = -1;  // after they all ended; -1 if they did not end in time
  int fds_open = -1;         // deputy's open descriptors with the tunnels open
  double KibPerTunnel() const {
    return static_cast<double>(rss_open_kib - rss_before_kib) / tunnels;
  }
};

// MeasureIdleMemory starts a deputy of its own (a heap that never carried bulk traffic), opens
// `tunnels` tunnels, exchanges one small message on each and leaves them idle.
bool MeasureIdleMemory(const BenchWorld& world, int tunnels, IdleMemory* memory,
                       std::string* error);

}  // namespace deputy::bench
