#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "support/tls_sink_server.h"
#include "support/tunnel_swarm.h"
#include "support/wait.h"

namespace deputy::bench {

// LoadCounts is what a soak's load has done so far.
struct LoadCounts {
  uint64_t tunnels = 0;         // 200 tunnels whose bytes matched at both ends
  uint64_t bytes = 0;           // tunnel bytes checked, both directions
  uint64_t refused = 0;         // refusals with the status the request asked for (400, 403)
  uint64_t slow_timed_out = 0;  // slowloris connections deputy ended with 408
  uint64_t errors = 0;          // anything else: lost or changed bytes, resets, wrong status
};

struct LoadOptions {
  uint16_t port = 0;         // deputy's CONNECT listener
  size_t concurrency = 200;  // tunnels and refused requests in flight at once
  size_t slow_clients = 50;  // slowloris connections held at once
  test::Millis slow_interval{100};
  test::Millis header_timeout{5000};  // deputy's, to know how long slow clients last
};

// MixedLoad drives a deputy whose "example.org:xmpp-client" leads to `sink`: tunnels of varied
// sizes (empty to 1 MiB each way) half-closing in every order, with and without early data,
// checked end to end by hash; requests deputy must refuse (a malformed name: 400; a service the
// domain does not delegate, with fallback deny: 403); and a slowloris crowd that deputy must end
// with 408.
class MixedLoad {
 public:
  MixedLoad(test::TlsSinkServer& sink, LoadOptions options);

  // Run blocks until `until` passes, then lets what is in flight finish.
  void Run(const test::Deadline& until);
  LoadCounts counts() const;
  // The first errors, for the report.
  std::vector<std::string> first_errors() const;

 private:
  std::vector<test::TunnelPlan> Batch(size_t n);
  void Check(const std::vector<test::TunnelPlan>& plans,
             const std::vector<test::TunnelOutcome>& outcomes);
  void RunSlowClients(const test::Deadline& until);
  void Error(std::string what);

  test::TlsSinkServer& sink_;
  LoadOptions options_;
  std::mt19937_64 rng_;
  uint64_t next_id_ = 0;
  size_t sink_failures_seen_ = 0;

  std::atomic<uint64_t> tunnels_ = 0;
  std::atomic<uint64_t> bytes_ = 0;
  std::atomic<uint64_t> refused_ = 0;
  std::atomic<uint64_t> slow_timed_out_ = 0;
  std::atomic<uint64_t> errors_ = 0;
  mutable std::mutex mu_;
  std::vector<std::string> first_errors_;
};

}  // namespace deputy::bench
