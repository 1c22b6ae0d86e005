#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace deputy::test {

// Figures about a running process, read from /proc; -1 when unavailable (e.g. it has exited).

// ProcessRssKiB is the resident set size (VmRSS).
long ProcessRssKiB(pid_t pid);
// ProcessOpenFds counts the entries of /proc/<pid>/fd.
long ProcessOpenFds(pid_t pid);
// ProcessCpuMs is the user plus system CPU time used so far, in milliseconds.
long ProcessCpuMs(pid_t pid);

// RaiseOpenFileLimit lifts this process's soft RLIMIT_NOFILE to its hard limit (children, such
// as deputy, inherit it) and checks that `needed` descriptors fit; false with `*error` if not.
bool RaiseOpenFileLimit(uint64_t needed, std::string* error);

}  // namespace deputy::test
