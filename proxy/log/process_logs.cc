#include "log/process_logs.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstdio>

#include "log/line_writer_sink.h"
#include "log/warning_limiter.h"

namespace deputy {

namespace {

std::atomic<ProcessLogs*> installed_logs{nullptr};

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

ProcessLogs::ProcessLogs(LineQueueLimits limits, LogSinks sinks)
    : access_(sinks.access_fd, limits),
      diagnostic_(std::make_shared<LineWriter>(sinks.diagnostic_fd, limits)),
      previous_(spdlog::default_logger()) {
  const spdlog::level::level_enum level = previous_ ? previous_->level() : spdlog::level::info;
  spdlog::set_default_logger(MakeLogger(std::make_shared<LineWriterSink>(diagnostic_), level));
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
  access_.Close(Remaining(deadline));
  diagnostic_->Close(Remaining(deadline));
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
