#pragma once

namespace deputy {

// How much the diagnostic log says, and how each line is written.
enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kOff };
enum class LogFormat {
  kText,  // "2026-12-04T01:02:03.456Z info message"
  kJson,  // {"time":"2026-12-04T01:02:03.456Z","level":"info","message":"message"}
};

}  // namespace deputy
