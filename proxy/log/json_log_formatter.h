#pragma once

#include <spdlog/formatter.h>

#include <memory>

namespace deputy {

// JsonLogFormatter writes each diagnostic line as one JSON object, for log shippers that parse
// rather than match: {"time":"2026-12-04T01:02:03.456Z","level":"info","message":"..."}, time
// in UTC. Bytes of the message that are not UTF-8 become U+FFFD, so every line parses.
class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

}  // namespace deputy
