#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "support/wait.h"

namespace deputy::test {

// MetricValue is the value of the sample named exactly `sample` (name and labels as exposed,
// e.g. deputy_bytes_total{direction="upstream"}) in a Prometheus text `body`; nothing if absent.
std::optional<double> MetricValue(std::string_view body, std::string_view sample);

// ScrapeMetric asks deputy's /metrics on `admin_port` once for `sample`; nothing if the scrape
// fails or the sample is absent.
std::optional<double> ScrapeMetric(uint16_t admin_port, std::string_view sample);

// WaitForMetricAtLeast polls /metrics on the admin port until `sample` reaches `at_least`;
// false if the timeout passes first.
bool WaitForMetricAtLeast(uint16_t admin_port, std::string_view sample, double at_least,
                          Millis timeout = kDefaultTimeout);

}  // namespace deputy::test
