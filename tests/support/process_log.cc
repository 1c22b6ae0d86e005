#include "support/process_log.h"

#include <poll.h>
#include <unistd.h>

namespace deputy::test {

const std::string& ProcessLog::Text() {
  char chunk[4096];
  ssize_t n;
  while (pipe_.valid() && (n = read(pipe_.fd(), chunk, sizeof chunk)) > 0) text_.append(chunk, n);
  if (pipe_.valid() && n == 0) ended_ = true;
  return text_;
}

size_t ProcessLog::Count(const std::string& needle) {
  const std::string& text = Text();
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

bool ProcessLog::WaitForMore(const std::string& needle, size_t seen, Millis timeout) {
  Deadline deadline(timeout);
  while (Count(needle) <= seen) {
    if (ended_ || !pipe_.valid() || WaitFd(pipe_.fd(), POLLIN, deadline) != WaitResult::kReady) {
      return Count(needle) > seen;
    }
  }
  return true;
}

void ProcessLog::Reset(Socket pipe) {
  pipe_ = std::move(pipe);
  text_.clear();
  ended_ = false;
}

}  // namespace deputy::test
