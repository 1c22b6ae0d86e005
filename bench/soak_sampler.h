#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/soak_load.h"
#include "support/wait.h"

namespace deputy::bench {

// Sample is deputy's state at one second of a soak run.
struct Sample {
  double seconds = 0;  // since the sampler started
  long rss_kib = -1;
  long fds = -1;
  LoadCounts load;  // cumulative
};

// Sampler reads deputy's RSS and descriptor count from /proc once a second, together with the
// load's counters, and prints each sample as a table row on stdout as it goes.
class Sampler {
 public:
  Sampler(pid_t pid, std::function<LoadCounts()> counts);
  ~Sampler() { Stop(); }
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  void Start();
  void Stop();
  // The samples so far (a copy: the sampling thread keeps appending).
  std::vector<Sample> samples() const;

 private:
  void Run();
  Sample Take(double seconds) const;

  pid_t pid_;
  std::function<LoadCounts()> counts_;
  mutable std::mutex mu_;
  std::vector<Sample> samples_;
  test::StopEvent stop_;
  std::thread thread_;
};

// AsciiPlot draws `values` (one per second) as a bar chart `width` columns by `height` rows,
// each column the largest value of the seconds it covers, with the value range on the left and
// the time range below.
std::string AsciiPlot(const std::string& title, const std::vector<double>& values, int width,
                      int height);

}  // namespace deputy::bench
