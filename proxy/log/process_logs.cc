#include "log/process_logs.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "log/json_log_formatter.h"
#include "log/line_writer_sink.h"
#include "log/warning_limiter.h"

namespace deputy {

namespace {

std::atomic<ProcessLogs*> installed_logs{nullptr};

spdlog::level::level_enum ToSpdlogLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

std::shared_ptr<spdlog::logger> MakeLogger(spdlog::sink_ptr sink, spdlog::level::level_enum level) {
  auto logger = std::make_shared<spdlog::logger>("deputy", std::move(sink));
  logger->set_pattern(kDiagnosticPattern, spdlog::pattern_time_type::utc);
  logger->set_level(level);
  return logger;
}

std::chrono::milliseconds Remaining(std::chrono::steady_clock::time_point deadline) {
  const auto left = deadline - std::chrono::steady_clock::now();
  return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(left),
                  std::chrono::milliseconds(0));
}

}  // namespace

void UseStderrLogger(spdlog::level::level_enum level) {
  auto logger = MakeLogger(std::make_shared<spdlog::sinks::stderr_sink_mt>(), level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

ProcessLogs::ProcessLogs(LineQueueLimits limits, LogSinks sinks,
                         std::optional<spdlog::level::level_enum> fixed_level)
    : sinks_(sinks),
      access_fd_(fcntl(sinks.access_fd, F_DUPFD_CLOEXEC, 0)),
      fixed_level_(fixed_level),
      access_(access_fd_ ? access_fd_.get() : sinks.access_fd, limits),
      diagnostic_(std::make_shared<LineWriter>(sinks.diagnostic_fd, limits)),
      previous_(spdlog::default_logger()) {
  start_level_ = previous_ ? previous_->level() : spdlog::level::info;
  spdlog::set_default_logger(
      MakeLogger(std::make_shared<LineWriterSink>(diagnostic_), start_level_));
  installed_logs.store(this, std::memory_order_release);
}

ProcessLogs::~ProcessLogs() {
  ReportSuppressedWarnings();
  installed_logs.store(nullptr, std::memory_order_release);
  if (previous_) {
    spdlog::set_default_logger(previous_);
  } else {
    UseStderrLogger(spdlog::default_logger()->level());
  }
  // Both drain side by side: a stuck stdout must not cost stderr its last lines.
  access_.StopTaking();
  diagnostic_->StopTaking();
  const auto deadline = std::chrono::steady_clock::now() + kShutdownFlush;
  const bool access_closed = access_.Close(Remaining(deadline));
  diagnostic_->Close(Remaining(deadline));
  // A writer thread still blocked in write(2) keeps the descriptor: closed under it, its number
  // could name another file by the time the write returns.
  if (!access_closed) access_fd_.Release();
}

void ProcessLogs::SetDiagnostics(std::optional<LogLevel> level, LogFormat format) {
  std::shared_ptr<spdlog::logger> logger = spdlog::default_logger();
  if (fixed_level_) {
    logger->set_level(*fixed_level_);
  } else {
    logger->set_level(level ? ToSpdlogLevel(*level) : start_level_);
  }
  if (format == LogFormat::kJson) {
    logger->set_formatter(std::make_unique<JsonLogFormatter>());
  } else {
    logger->set_pattern(kDiagnosticPattern, spdlog::pattern_time_type::utc);
  }
}

Result<UniqueFd> ProcessLogs::OpenAccessLogFile(const std::string& path) {
  UniqueFd file(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!file) {
    return Status(ErrorCode::kInvalidConfig,
                  "access_log.path: cannot open " + path + ": " + std::strerror(errno));
  }
  return file;
}

void ProcessLogs::UseAccessLog(UniqueFd file) {
  if (!access_fd_) {
    // The duplicate of stdout that lines go through could not be made at start (no descriptor
    // left): there is nothing to switch, and saying so beats a file that stays empty.
    if (file) spdlog::error("access log: cannot switch to the file; lines keep going to stdout");
    return;
  }
  const int source = file ? file.get() : sinks_.access_fd;
  // dup3 swaps what the descriptor refers to in one step; a write under way finishes on the
  // file it started on.
  if (dup3(source, access_fd_.get(), O_CLOEXEC) < 0) {
    spdlog::error("access log: cannot switch: {}", std::strerror(errno));
  }
}

void WriteAccessLogLine(std::string line) {
  if (ProcessLogs* logs = installed_logs.load(std::memory_order_acquire)) {
    logs->access().Write(std::move(line));
    return;
  }
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

DroppedLogLines CountDroppedLogLines() {
  const ProcessLogs* logs = installed_logs.load(std::memory_order_acquire);
  if (logs == nullptr) return {};
  return {logs->access().dropped(), logs->diagnostic().dropped()};
}

}  // namespace deputy
