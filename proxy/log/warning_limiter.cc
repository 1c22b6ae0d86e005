#include "log/warning_limiter.h"

#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace deputy {

namespace {

struct Limiters {
  std::mutex mu;
  std::map<std::string, WarningLimiter, std::less<>> by_kind;
};

Limiters& ProcessLimiters() {
  // Never destroyed: a warning logged during static destruction still finds it.
  static Limiters* limiters = new Limiters;
  return *limiters;
}

}  // namespace

WarningLimiter::Admission WarningLimiter::Admit(Clock::time_point now) {
  Admission admission;
  if (!started_ || now - window_start_ >= window_) {
    admission.suppressed = TakeSuppressed();
    window_start_ = now;
    admitted_ = 0;
    started_ = true;
  }
  if (admitted_ >= burst_) {
    ++suppressed_;
    return admission;
  }
  ++admitted_;
  admission.log = true;
  admission.last = admitted_ == burst_;
  return admission;
}

uint64_t WarningLimiter::TakeSuppressed() { return std::exchange(suppressed_, 0); }

WarningLimiter::Admission AdmitWarning(std::string_view kind) {
  Limiters& limiters = ProcessLimiters();
  std::lock_guard lock(limiters.mu);
  auto it = limiters.by_kind.find(kind);
  if (it == limiters.by_kind.end()) {
    it = limiters.by_kind.emplace(std::string(kind), WarningLimiter(kWarningBurst, kWarningWindow))
             .first;
  }
  return it->second.Admit(WarningLimiter::Clock::now());
}

void ReportSuppressedWarnings() {
  std::map<std::string, uint64_t> counts;
  {
    Limiters& limiters = ProcessLimiters();
    std::lock_guard lock(limiters.mu);
    for (auto& [kind, limiter] : limiters.by_kind) {
      if (uint64_t suppressed = limiter.TakeSuppressed(); suppressed > 0) counts[kind] = suppressed;
    }
  }
  for (const auto& [kind, suppressed] : counts) LogSuppressedCount(kind, suppressed);
}

void LogSuppressedCount(std::string_view kind, uint64_t suppressed) {
  spdlog::warn("{}: suppressed {} similar warnings", kind, suppressed);
}

void LogSuppressingMore(std::string_view kind) {
  spdlog::warn("{}: suppressing further warnings (at most {} per {} s)", kind, kWarningBurst,
               kWarningWindow.count());
}

}  // namespace deputy
