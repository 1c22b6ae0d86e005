#include "base/descriptor_budget.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace deputy {

DescriptorLimit RaiseDescriptorLimit() {
  DescriptorLimit limit;
  rlimit current{};
  if (getrlimit(RLIMIT_NOFILE, &current) != 0) {
    limit.error = std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno);
    return limit;
  }
  limit.soft_before = limit.soft = current.rlim_cur;
  limit.hard = current.rlim_max;
  if (current.rlim_cur == current.rlim_max) return limit;
  rlimit raised = current;
  raised.rlim_cur = current.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    limit.error = std::string("setrlimit(RLIMIT_NOFILE): ") + std::strerror(errno);
    return limit;
  }
  limit.soft = raised.rlim_cur;
  return limit;
}

// Counted with open(2) and getdents64(2) rather than opendir(3): workers open and close sockets
// meanwhile, and ThreadSanitizer, which sees open and close but not opendir, takes the reuse of a
// just-closed socket's number by the directory for a race.
uint64_t OpenDescriptorCount() {
  const int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return 0;
  uint64_t count = 0;
  alignas(8) char entries[4096];
  long n = 0;
  while ((n = syscall(SYS_getdents64, dir, entries, sizeof entries)) > 0) {
    for (long at = 0; at < n;) {
      const auto* entry = reinterpret_cast<const dirent64*>(entries + at);
      if (entry->d_name[0] != '.') ++count;  // not "." or ".."
      at += entry->d_reclen;
    }
  }
  close(dir);
  if (n < 0) return 0;
  // The directory's own descriptor was open while counting.
  return count > 0 ? count - 1 : 0;
}

uint64_t ConnectionsWithinLimit(uint64_t soft_limit, uint64_t open_now) {
  const uint64_t reserved = open_now + kDescriptorHeadroom;
  if (soft_limit <= reserved + kDescriptorsPerConnection) return 1;
  return (soft_limit - reserved) / kDescriptorsPerConnection;
}

}  // namespace deputy
