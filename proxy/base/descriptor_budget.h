#pragma once

#include <cstdint>
#include <string>

namespace deputy {

// The process's open-file limit as deputy found and left it.
struct DescriptorLimit {
  uint64_t soft_before = 0;  // RLIMIT_NOFILE's soft limit at start
  uint64_t soft = 0;         // after raising it to the hard limit
  uint64_t hard = 0;
  std::string error;  // why the limit could not be read or raised; empty when it could
};

// RaiseDescriptorLimit lifts the soft open-file limit to the hard one, as Go's runtime and
// HAProxy do: the soft default (often 1,024) is a leftover from select(2), which deputy never
// uses, and running out of descriptors turns accepted clients into failed tunnels.
DescriptorLimit RaiseDescriptorLimit();

// OpenDescriptorCount counts this process's open descriptors (/proc/self/fd); 0 if unreadable.
uint64_t OpenDescriptorCount();

// Descriptors a client connection may hold at the same time: its own, its upstream's, and one
// for a well-known fetch or a DNS query made on its behalf.
inline constexpr uint64_t kDescriptorsPerConnection = 3;
// Descriptors kept free for everything else: admin scrapes, a log reopened, libuv's reserve
// for shedding connections at EMFILE, and the sanitizers' own probes in test builds.
inline constexpr uint64_t kDescriptorHeadroom = 16;

// ConnectionsWithinLimit is how many client connections fit in `soft_limit` descriptors when
// `open_now` are already in use: at least 1, so a tiny limit still serves one at a time.
uint64_t ConnectionsWithinLimit(uint64_t soft_limit, uint64_t open_now);

}  // namespace deputy
