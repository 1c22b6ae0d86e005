#include "admin/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <sstream>
#include <string>

#include "base/descriptor_budget.h"

namespace deputy {

namespace {

// The fields of /proc/self/stat this reports, converted to units Prometheus expects.
struct Stat {
  double cpu_seconds = 0;
  double start_ticks = 0;  // since boot
  double virtual_bytes = 0;
  double resident_bytes = 0;
};

std::optional<Stat> ReadStat() {
  std::ifstream file("/proc/self/stat");
  const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  // The command name may hold spaces and parentheses: the fields start after its last ')'.
  const size_t end = text.rfind(')');
  if (end == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(end + 1));
  // Field 3 (state) comes first here; utime is 14, stime 15, starttime 22, vsize 23, rss 24.
  std::string skip;
  for (int field = 3; field < 14; ++field) fields >> skip;
  unsigned long long utime = 0, stime = 0;
  fields >> utime >> stime;
  for (int field = 16; field < 22; ++field) fields >> skip;
  unsigned long long start = 0, vsize = 0;
  long long rss_pages = 0;
  if (!(fields >> start >> vsize >> rss_pages)) return std::nullopt;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  return Stat{static_cast<double>(utime + stime) / ticks, static_cast<double>(start) / ticks,
              static_cast<double>(vsize), static_cast<double>(rss_pages) * page};
}

// BootTime is when the machine booted, in seconds since the epoch ("btime" in /proc/stat).
std::optional<double> BootTime() {
  std::ifstream file("/proc/stat");
  std::string key;
  while (file >> key) {
    if (key == "btime") {
      double seconds = 0;
      if (file >> seconds) return seconds;
      return std::nullopt;
    }
    file.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

prometheus::MetricFamily One(const char* name, const char* help, prometheus::MetricType type,
                             double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return prometheus::MetricFamily{name, help, type, {metric}};
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families;
  if (std::optional<Stat> stat = ReadStat()) {
    families.push_back(One("process_cpu_seconds_total", "User and system CPU time, in seconds.",
                           MetricType::Counter, stat->cpu_seconds));
    families.push_back(One("process_resident_memory_bytes", "Resident memory size, in bytes.",
                           MetricType::Gauge, stat->resident_bytes));
    families.push_back(One("process_virtual_memory_bytes", "Virtual memory size, in bytes.",
                           MetricType::Gauge, stat->virtual_bytes));
    if (std::optional<double> boot = BootTime()) {
      families.push_back(One("process_start_time_seconds",
                             "When the process started, in seconds since the Unix epoch.",
                             MetricType::Gauge, *boot + stat->start_ticks));
    }
  }
  // Never 0 in a running process (the admin connection itself is open): 0 means unreadable.
  if (const uint64_t open = OpenDescriptorCount(); open > 0) {
    families.push_back(One("process_open_fds", "Open file descriptors.", MetricType::Gauge,
                           static_cast<double>(open)));
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    families.push_back(One("process_max_fds", "The soft limit on open file descriptors.",
                           MetricType::Gauge, static_cast<double>(limit.rlim_cur)));
  }
  return families;
}

}  // namespace deputy
