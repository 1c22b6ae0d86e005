#pragma once

#include <spdlog/logger.h>

#include <unistd.h>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "log/line_writer.h"

namespace deputy {

// The diagnostic log's line format: UTC time, level, message.
inline constexpr char kDiagnosticPattern[] = "%Y-%m-%dT%H:%M:%S.%eZ %l %v";

// UseStderrLogger makes spdlog's default logger write synchronously to stderr at `level`
// (trace ... off): right for short commands (check, resolve), and the fallback after
// ProcessLogs.
void UseStderrLogger(spdlog::level::level_enum level);

// Where ProcessLogs writes; tests pass pipes.
struct LogSinks {
  int access_fd = STDOUT_FILENO;
  int diagnostic_fd = STDERR_FILENO;
};

// ProcessLogs, while it lives, sends the access log (WriteAccessLogLine) and the diagnostic log
// (spdlog's default logger, at the level it had) through two LineWriters, one thread each, so
// the event loop never waits for stdout or stderr. At most one exists at a time; `deputy run`
// makes it before the server and destroys it after.
class ProcessLogs {
 public:
  // The time both logs get together, at destruction, to write what is queued.
  static constexpr std::chrono::milliseconds kShutdownFlush{2000};

  explicit ProcessLogs(LineQueueLimits limits, LogSinks sinks = {});
  // Reports suppressed warnings, puts the previous default logger back and flushes both
  // queues within kShutdownFlush.
  ~ProcessLogs();
  ProcessLogs(const ProcessLogs&) = delete;
  ProcessLogs& operator=(const ProcessLogs&) = delete;

  LineWriter& access() { return access_; }
  LineWriter& diagnostic() { return *diagnostic_; }
  const LineWriter& access() const { return access_; }
  const LineWriter& diagnostic() const { return *diagnostic_; }

 private:
  LineWriter access_;
  std::shared_ptr<LineWriter> diagnostic_;  // shared with the spdlog sink
  std::shared_ptr<spdlog::logger> previous_;
};

// WriteAccessLogLine writes one access-log line (ending in '\n'): queued when a ProcessLogs
// exists, else straight to stdout (in-process tests and tools).
void WriteAccessLogLine(std::string line);

// Lines each of the process's logs has dropped so far; zeros while no ProcessLogs exists.
struct DroppedLogLines {
  uint64_t access = 0;
  uint64_t diagnostic = 0;
};
DroppedLogLines CountDroppedLogLines();

}  // namespace deputy
