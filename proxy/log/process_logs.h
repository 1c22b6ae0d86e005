#pragma once

#include <spdlog/logger.h>

#include <unistd.h>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "base/unique_fd.h"
#include "log/line_writer.h"
#include "log/log_settings.h"

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

  // `fixed_level`, when given (deputy run --log-level), is the diagnostic level whatever the
  // configuration says.
  explicit ProcessLogs(LineQueueLimits limits, LogSinks sinks = {},
                       std::optional<spdlog::level::level_enum> fixed_level = std::nullopt);
  // Reports suppressed warnings, puts the previous default logger back and flushes both
  // queues within kShutdownFlush.
  ~ProcessLogs();
  ProcessLogs(const ProcessLogs&) = delete;
  ProcessLogs& operator=(const ProcessLogs&) = delete;

  LineWriter& access() { return access_; }
  LineWriter& diagnostic() { return *diagnostic_; }
  const LineWriter& access() const { return access_; }
  const LineWriter& diagnostic() const { return *diagnostic_; }

  // SetDiagnostics sets the diagnostic log's level (unless the command line fixed it; absent,
  // the level deputy started with) and line format, from the next line on; from any thread.
  void SetDiagnostics(std::optional<LogLevel> level, LogFormat format);

  // OpenAccessLogFile opens `path` for appending, creating it (mode 0640) if missing, for
  // UseAccessLog; errors name the path.
  static Result<UniqueFd> OpenAccessLogFile(const std::string& path);
  // UseAccessLog sends the access log to `file` from the next write on, lines already queued
  // included, or back to the sink it was made with when `file` is empty. The previous file is
  // closed once the line being written to it is: this is how logrotate's SIGUSR1 is served.
  void UseAccessLog(UniqueFd file);

 private:
  LogSinks sinks_;
  // What the access LineWriter writes to: a descriptor of our own, onto which the sink or a
  // file is duplicated, so switching never races a write under way.
  UniqueFd access_fd_;
  std::optional<spdlog::level::level_enum> fixed_level_;
  spdlog::level::level_enum start_level_;  // what an absent log.level means
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
