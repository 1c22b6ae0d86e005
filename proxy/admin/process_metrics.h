#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

namespace deputy {

// ProcessMetrics reports the process's own resources under the names every Prometheus client
// library uses (process_cpu_seconds_total, process_resident_memory_bytes, ...), read from /proc
// at each scrape, so dashboards and alerts written for other services work on deputy unchanged.
// A value /proc does not give is left out rather than reported as 0.
class ProcessMetrics : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace deputy
