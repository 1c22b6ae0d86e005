#include "bench/soak_sampler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "support/process_stats.h"

namespace deputy::bench {

namespace {

std::string Format(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof(text), format, value);
  return text;
}

}  // namespace

Sampler::Sampler(pid_t pid, std::function<LoadCounts()> counts)
    : pid_(pid), counts_(std::move(counts)) {}

void Sampler::Start() {
  std::printf("%6s %10s %6s %9s %9s %8s %8s %7s\n", "t_s", "rss_kib", "fds", "tunnels/s", "tunnels",
              "refused", "slow408", "errors");
  std::fflush(stdout);
  thread_ = std::thread([this] { Run(); });
}

void Sampler::Stop() {
  stop_.Fire();
  if (thread_.joinable()) thread_.join();
}

std::vector<Sample> Sampler::samples() const {
  std::lock_guard lock(mu_);
  return samples_;
}

Sample Sampler::Take(double seconds) const {
  Sample sample;
  sample.seconds = seconds;
  sample.rss_kib = test::ProcessRssKiB(pid_);
  sample.fds = test::ProcessOpenFds(pid_);
  sample.load = counts_();
  return sample;
}

void Sampler::Run() {
  auto start = std::chrono::steady_clock::now();
  for (int tick = 0;; ++tick) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    Sample sample = Take(seconds);
    uint64_t previous = 0;
    {
      std::lock_guard lock(mu_);
      if (!samples_.empty()) previous = samples_.back().load.tunnels;
      samples_.push_back(sample);
    }
    std::printf("%6.0f %10ld %6ld %9llu %9llu %8llu %8llu %7llu\n", seconds, sample.rss_kib,
                sample.fds, static_cast<unsigned long long>(sample.load.tunnels - previous),
                static_cast<unsigned long long>(sample.load.tunnels),
                static_cast<unsigned long long>(sample.load.refused),
                static_cast<unsigned long long>(sample.load.slow_timed_out),
                static_cast<unsigned long long>(sample.load.errors));
    std::fflush(stdout);
    // One sample per second on the clock, however long a sample took.
    auto next = start + std::chrono::seconds(tick + 1);
    auto wait = std::chrono::duration_cast<test::Millis>(next - std::chrono::steady_clock::now());
    if (stop_.WaitFor(std::max(wait, test::Millis(0)))) return;
  }
}

std::string AsciiPlot(const std::string& title, const std::vector<double>& values, int width,
                      int height) {
  if (values.empty() || width <= 0 || height <= 0) return title + ": no samples\n";
  int columns = std::min<int>(width, static_cast<int>(values.size()));
  std::vector<double> column(columns, 0);
  for (int c = 0; c < columns; ++c) {
    size_t begin = values.size() * c / columns;
    size_t end = std::max(begin + 1, values.size() * (c + 1) / columns);
    column[c] = *std::max_element(values.begin() + begin, values.begin() + end);
  }
  double low = *std::min_element(values.begin(), values.end());
  double high = *std::max_element(values.begin(), values.end());
  // Bars start a little below the smallest value, so a flat line still shows as bars.
  double floor = std::max(0.0, low - (high - low) * 0.1 - 1);
  double step = (high - floor) / height;
  std::string out = title + "\n";
  for (int row = height; row >= 1; --row) {
    double level = floor + step * row;
    out += Format("%10.0f |", level);
    for (int c = 0; c < columns; ++c) out += column[c] > level - step / 2 ? '#' : ' ';
    out += '\n';
  }
  out += std::string(11, ' ') + '+' + std::string(columns, '-') + '\n';
  std::string span = "0 s";
  std::string end = std::to_string(values.size() - 1) + " s";
  out += std::string(12, ' ') + span +
         std::string(std::max<int>(1, columns - static_cast<int>(span.size() + end.size())), ' ') +
         end + '\n';
  return out;
}

}  // namespace deputy::bench
