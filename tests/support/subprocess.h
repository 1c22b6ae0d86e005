#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "support/socket.h"
#include "support/wait.h"

namespace deputy::test {

struct RunResult {
  int exit_code = -1;  // exit code, or 128 + signal number
  std::string stdout_text;
  std::string stderr_text;
  bool timed_out = false;  // killed because it ran past the timeout
};

// Child is a running process whose stdout and stderr are pipes read by the parent.
struct Child {
  pid_t pid = -1;
  Socket stdout_pipe;  // read ends, non-blocking (Socket owns any fd)
  Socket stderr_pipe;
};

// Spawn starts `argv[0]` (a path) with `argv` and stdin from /dev/null. The child gets SIGKILL
// when the thread that spawned it ends (PR_SET_PDEATHSIG), so a test binary killed by a
// timeout leaves no process behind: spawn from the test's own thread, not a short-lived one.
// Inherits no descriptor besides 0-2.
std::optional<Child> Spawn(const std::vector<std::string>& argv, std::string* error);

// WaitForExit reaps `pid` once it exits and returns its status as a shell reports it (exit code,
// or 128 + signal number); nullopt if it is still running when the timeout passes.
std::optional<int> WaitForExit(pid_t pid, Millis timeout);

// RunToCompletion runs `argv` (argv[0] a path) with its output collected, killing it past
// `timeout`.
RunResult RunToCompletion(const std::vector<std::string>& argv, Millis timeout);

}  // namespace deputy::test
