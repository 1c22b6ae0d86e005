#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "bench/bench_world.h"

namespace deputy::bench {

// WorkersLoad is what the workers phase puts on one deputy: `clients` threads at once, first each
// echoing `bytes_each` through a tunnel of its own, then each opening and closing tunnels one
// after another for `connect_seconds`.
struct WorkersLoad {
  int clients = 8;
  uint64_t bytes_each = 64ull << 20;
  double connect_seconds = 3;
};

struct WorkersRun {
  unsigned workers = 0;
  double mib_s = 0;    // every client's echoed bytes over the wall time of the bulk run
  double conns_s = 0;  // tunnels set up and closed per second, all clients together
  // deputy's CPU time over the wall time of each run: cores it kept busy.
  double bulk_cores = 0;
  double connect_cores = 0;
  // How the kernel spread the sessions over the workers (the access log's `worker`).
  std::map<unsigned, int> sessions_by_worker;
};

// MeasureWorkers starts a deputy with `workers` event loops and puts `load` on it. Returns false,
// with `*error` set, when something failed (not when it was slow).
bool MeasureWorkers(const BenchWorld& world, unsigned workers, const WorkersLoad& load,
                    WorkersRun* run, std::string* error);

}  // namespace deputy::bench
