#include "support/metric_wait.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "support/client.h"

namespace deputy::test {

namespace {

// deputy exposes counters only when asked, so waiting on one means asking again; this is how
// often.
constexpr Millis kPollInterval{10};

}  // namespace

std::optional<double> MetricValue(std::string_view body, std::string_view sample) {
  size_t at = 0;
  while (at < body.size()) {
    size_t end = body.find('\n', at);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(at, end - at);
    at = end + 1;
    if (line.size() > sample.size() && line.starts_with(sample) && line[sample.size()] == ' ') {
      std::string value(line.substr(sample.size() + 1));
      char* parsed_end = nullptr;
      double v = std::strtod(value.c_str(), &parsed_end);
      if (parsed_end != value.c_str()) return v;
    }
  }
  return std::nullopt;
}

std::optional<double> ScrapeMetric(uint16_t admin_port, std::string_view sample) {
  std::optional<HttpResponse> metrics = HttpGet(admin_port, "/metrics");
  if (!metrics) return std::nullopt;
  return MetricValue(metrics->body, sample);
}

bool WaitForMetricAtLeast(uint16_t admin_port, std::string_view sample, double at_least,
                          Millis timeout) {
  Deadline deadline(timeout);
  for (;;) {
    std::optional<HttpResponse> metrics = HttpGet(admin_port, "/metrics", deadline.Remaining());
    if (metrics) {
      std::optional<double> value = MetricValue(metrics->body, sample);
      if (value && *value >= at_least) return true;
    }
    if (deadline.expired()) return false;
    std::this_thread::sleep_for(std::min(kPollInterval, deadline.Remaining()));
  }
}

}  // namespace deputy::test
