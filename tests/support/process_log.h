#pragma once

#include <string>

#include "support/socket.h"
#include "support/wait.h"

namespace deputy::test {

// ProcessLog collects what a server child writes to a pipe (its log) and counts lines in it,
// waiting on the pipe itself, never by sleeping, for one more to appear.
class ProcessLog {
 public:
  ProcessLog() = default;
  explicit ProcessLog(Socket pipe) : pipe_(std::move(pipe)) {}

  // Text is everything written so far.
  const std::string& Text();
  // Count is how often `needle` appears in it.
  size_t Count(const std::string& needle);
  // WaitForMore waits until `needle` has appeared more than `seen` times.
  bool WaitForMore(const std::string& needle, size_t seen, Millis timeout);
  // Reset forgets what was read and reads `pipe` from now on, for a child started again.
  void Reset(Socket pipe);

 private:
  Socket pipe_;
  std::string text_;
  bool ended_ = false;
};

}  // namespace deputy::test
