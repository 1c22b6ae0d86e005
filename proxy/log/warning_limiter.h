#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace deputy {

// WarningLimiter lets at most `burst` warnings of one kind through per `window` and counts the
// rest, so a flood of failing connections cannot fill the diagnostic log with one message. The
// window starts at the first warning after the previous one ended. Not thread-safe on its own;
// WarnLimited below serialises access.
class WarningLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  WarningLimiter(size_t burst, Clock::duration window) : burst_(burst), window_(window) {}

  struct Admission {
    bool log = false;         // log this warning
    bool last = false;        // it is the last one logged in this window
    uint64_t suppressed = 0;  // warnings suppressed in the window that just ended, to report
  };
  Admission Admit(Clock::time_point now);

  // TakeSuppressed returns the warnings suppressed since the last report and forgets them.
  uint64_t TakeSuppressed();

 private:
  size_t burst_;
  Clock::duration window_;
  Clock::time_point window_start_{};
  size_t admitted_ = 0;
  uint64_t suppressed_ = 0;
  bool started_ = false;
};

// Process-wide limits of WarnLimited: per kind, at most this many warnings per window.
inline constexpr size_t kWarningBurst = 10;
inline constexpr std::chrono::seconds kWarningWindow{1};

// AdmitWarning runs the process-wide limiter of `kind` (created on first use). Thread-safe.
WarningLimiter::Admission AdmitWarning(std::string_view kind);

// ReportSuppressedWarnings logs, for every kind with warnings not reported yet, how many were
// suppressed; called at exit so the last window's count is not lost.
void ReportSuppressedWarnings();

// The lines around limited warnings: how many were suppressed before this one, and that the
// ones after it will be.
void LogSuppressedCount(std::string_view kind, uint64_t suppressed);
void LogSuppressingMore(std::string_view kind);

// WarnLimited logs a warning at level warn unless `kind` (a short description of the
// repeated event, e.g. "upstream attempt failed") already had kWarningBurst in this window.
// When a window ends with warnings suppressed, the next warning of that kind is preceded by
// "<kind>: suppressed N similar warnings", and the last one let through in a window is followed
// by "<kind>: suppressing further warnings".
template <typename... Args>
void WarnLimited(std::string_view kind, spdlog::format_string_t<Args...> format, Args&&... args) {
  if (!spdlog::should_log(spdlog::level::warn)) return;
  const WarningLimiter::Admission admission = AdmitWarning(kind);
  if (admission.suppressed > 0) LogSuppressedCount(kind, admission.suppressed);
  if (!admission.log) return;
  spdlog::warn(format, std::forward<Args>(args)...);
  if (admission.last) LogSuppressingMore(kind);
}

}  // namespace deputy
