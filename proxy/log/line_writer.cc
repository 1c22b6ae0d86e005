#include "log/line_writer.h"

#include <limits.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace deputy {

namespace {

// WriteAll writes all of `text` to `fd`; false on an error such as EPIPE. The descriptor may
// have been made non-blocking by whoever shares it (a supervisor's pipe, a tty): then wait for
// room instead of tearing the line.
bool WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd writable{.fd = fd, .events = POLLOUT, .revents = 0};
      if (poll(&writable, 1, -1) < 0 && errno != EINTR) return false;
      continue;
    }
    if (n <= 0) return false;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

LineWriter::LineWriter(int fd, LineQueueLimits limits) : state_(std::make_shared<State>()) {
  state_->fd = fd;
  state_->limits = limits;
  thread_ = std::thread(Drain, state_);
}

LineWriter::~LineWriter() { Close(kDestructorFlush); }

void LineWriter::Write(std::string line) {
  {
    std::lock_guard lock(state_->mu);
    const bool fits = state_->lines.size() < state_->limits.max_lines &&
                      line.size() <= state_->limits.max_bytes - state_->bytes;
    if (!state_->closed && fits) {
      state_->bytes += line.size();
      state_->lines.push_back(std::move(line));
      state_->wake.notify_one();
      return;
    }
  }
  state_->dropped.fetch_add(1, std::memory_order_relaxed);
}

void LineWriter::StopTaking() {
  std::lock_guard lock(state_->mu);
  state_->closed = true;
  state_->wake.notify_one();
}

bool LineWriter::Close(std::chrono::milliseconds timeout) {
  std::lock_guard close_lock(close_mu_);
  std::unique_lock lock(state_->mu);
  if (!thread_.joinable()) return state_->done;
  state_->closed = true;
  state_->wake.notify_one();
  const bool done = state_->finished.wait_for(lock, timeout, [this] { return state_->done; });
  lock.unlock();
  if (done) {
    thread_.join();
  } else {
    thread_.detach();
  }
  return done;
}

void LineWriter::Drain(const std::shared_ptr<State>& state) {
  std::string chunk;
  std::unique_lock lock(state->mu);
  for (;;) {
    state->wake.wait(lock, [&] { return !state->lines.empty() || state->closed; });
    if (state->lines.empty()) break;
    chunk.clear();
    uint64_t count = 0;
    while (!state->lines.empty()) {
      std::string& line = state->lines.front();
      if (count > 0 && chunk.size() + line.size() > PIPE_BUF) break;
      chunk += line;
      state->bytes -= line.size();
      state->lines.pop_front();
      ++count;
    }
    lock.unlock();
    const bool ok = WriteAll(state->fd, chunk);
    (ok ? state->written : state->dropped).fetch_add(count, std::memory_order_relaxed);
    lock.lock();
  }
  state->done = true;
  state->finished.notify_all();
}

}  // namespace deputy
