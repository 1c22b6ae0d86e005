#pragma once

namespace deputy {

// UsableCpuCount is the number of CPUs this process may run on (its sched_getaffinity mask,
// which taskset, cgroup cpusets and container runtimes narrow), at least 1.
unsigned UsableCpuCount();

}  // namespace deputy
