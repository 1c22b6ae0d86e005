#include "support/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace deputy::test {

namespace {

std::string ProcPath(pid_t pid, const char* entry) {
  return "/proc/" + std::to_string(pid) + "/" + entry;
}

}  // namespace

long ProcessRssKiB(pid_t pid) {
  std::ifstream status(ProcPath(pid, "status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

long ProcessOpenFds(pid_t pid) {
  DIR* dir = opendir(ProcPath(pid, "fd").c_str());
  if (dir == nullptr) return -1;
  long count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

long ProcessCpuMs(pid_t pid) {
  std::ifstream stat(ProcPath(pid, "stat"));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis are
  // plain numbers. utime and stime are fields 14 and 15, so the 12th and 13th after it.
  size_t paren = text.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(paren + 1));
  std::string field;
  long ticks = 0;
  for (int i = 1; i <= 13 && fields >> field; ++i) {
    if (i >= 12) ticks += std::strtol(field.c_str(), nullptr, 10);
  }
  long per_second = sysconf(_SC_CLK_TCK);
  return per_second > 0 ? ticks * 1000 / per_second : -1;
}

bool RaiseOpenFileLimit(uint64_t needed, std::string* error) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    *error = "getrlimit(RLIMIT_NOFILE) failed";
    return false;
  }
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    *error = "setrlimit(RLIMIT_NOFILE) failed";
    return false;
  }
  if (limit.rlim_cur != RLIM_INFINITY && needed > limit.rlim_cur) {
    *error = "needs " + std::to_string(needed) + " open files; the hard limit is " +
             std::to_string(limit.rlim_cur);
    return false;
  }
  return true;
}

}  // namespace deputy::test
