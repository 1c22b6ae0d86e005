#include "base/descriptor_budget.h"

#include <dirent.h>
#include <sys/resource.h>

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

uint64_t OpenDescriptorCount() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  uint64_t count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  // The directory stream's own descriptor was open while counting.
  return count > 0 ? count - 1 : 0;
}

uint64_t ConnectionsWithinLimit(uint64_t soft_limit, uint64_t open_now) {
  const uint64_t reserved = open_now + kDescriptorHeadroom;
  if (soft_limit <= reserved + kDescriptorsPerConnection) return 1;
  return (soft_limit - reserved) / kDescriptorsPerConnection;
}

}  // namespace deputy
