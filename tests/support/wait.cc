#include "support/wait.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include "support/die.h"

namespace deputy::test {

int Deadline::PollTimeoutMs() const {
  auto left = at_ - std::chrono::steady_clock::now();
  if (left <= std::chrono::steady_clock::duration::zero()) return 0;
  return static_cast<int>(std::chrono::ceil<Millis>(left).count());
}

Millis Deadline::Remaining() const { return Millis(PollTimeoutMs()); }

WaitResult WaitFd(int fd, short events, const Deadline& deadline, int stop_fd) {
  pollfd fds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
  nfds_t count = stop_fd >= 0 ? 2 : 1;
  for (;;) {
    int n = poll(fds, count, deadline.PollTimeoutMs());
    if (n < 0) {
      if (errno == EINTR) continue;
      return WaitResult::kError;
    }
    if (count == 2 && fds[1].revents != 0) return WaitResult::kStopped;
    if (fds[0].revents != 0) return WaitResult::kReady;
    if (deadline.expired()) return WaitResult::kTimeout;
  }
}

StopEvent::StopEvent() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) DieErrno("pipe2");
  read_fd_ = fds[0];
  write_fd_ = fds[1];
}

StopEvent::~StopEvent() {
  close(read_fd_);
  close(write_fd_);
}

void StopEvent::Fire() {
  // One byte is enough and is never read, so the pipe stays readable; a full pipe (EAGAIN)
  // means it already fired.
  char byte = 1;
  while (write(write_fd_, &byte, 1) < 0 && errno == EINTR) {
  }
}

bool StopEvent::fired() const {
  pollfd fd = {read_fd_, POLLIN, 0};
  return poll(&fd, 1, 0) > 0;
}

bool StopEvent::WaitFor(Millis timeout) const {
  Deadline deadline(timeout);
  pollfd fd = {read_fd_, POLLIN, 0};
  for (;;) {
    int n = poll(&fd, 1, deadline.PollTimeoutMs());
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
    if (deadline.expired()) return false;
  }
}

}  // namespace deputy::test
