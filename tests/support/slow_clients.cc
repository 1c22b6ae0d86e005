#include "support/slow_clients.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <utility>

#include "support/client.h"

namespace deputy::test {

SlowClients::SlowClients(uint16_t port, size_t count, std::string text, Millis interval)
    : text_(std::move(text)), interval_(interval) {
  IgnoreSigpipe();
  for (size_t i = 0; i < count; ++i) {
    Socket socket = ConnectTcp(port);
    if (!socket.valid()) break;
    SetNonBlocking(socket.fd(), true);
    connections_.push_back({std::move(socket)});
  }
  connected_ = connections_.size();
  open_ = connected_;
  thread_ = std::thread([this] { Run(); });
}

SlowClients::~SlowClients() {
  stop_.Fire();
  thread_.join();
}

size_t SlowClients::open() const {
  std::lock_guard lock(mu_);
  return open_;
}

uint64_t SlowClients::bytes_sent() const {
  std::lock_guard lock(mu_);
  return bytes_sent_;
}

bool SlowClients::WaitForClosed(size_t n, Millis timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return connected_ - open_ >= n; });
}

std::vector<std::string> SlowClients::responses() const {
  std::lock_guard lock(mu_);
  return responses_;
}

void SlowClients::Run() {
  for (;;) {
    Deadline tick(interval_);
    DripOneByteEach();
    if (!ReadUntil(tick)) return;
  }
}

void SlowClients::DripOneByteEach() {
  uint64_t sent = 0;
  for (Connection& conn : connections_) {
    if (!conn.socket.valid() || conn.sent >= text_.size()) continue;
    if (send(conn.socket.fd(), text_.data() + conn.sent, 1, MSG_NOSIGNAL) == 1) {
      ++conn.sent;
      ++sent;
    }
  }
  std::lock_guard lock(mu_);
  bytes_sent_ += sent;
}

bool SlowClients::ReadUntil(const Deadline& tick) {
  for (;;) {
    // Pacing, not synchronisation: the wait is the drip interval, cut short only by the peer's
    // answers and by stop.
    std::vector<pollfd> fds = {{stop_.fd(), POLLIN, 0}};
    std::vector<Connection*> polled;
    for (Connection& conn : connections_) {
      if (!conn.socket.valid()) continue;
      fds.push_back({conn.socket.fd(), POLLIN, 0});
      polled.push_back(&conn);
    }
    int ready = poll(fds.data(), fds.size(), tick.PollTimeoutMs());
    if (ready < 0 && errno != EINTR) return false;
    if (fds[0].revents != 0) return false;
    if (ready <= 0) return true;  // the tick is over
    for (size_t i = 0; i < polled.size(); ++i) {
      if (fds[i + 1].revents == 0) continue;
      Connection& conn = *polled[i];
      char buf[4096];
      ssize_t n = recv(conn.socket.fd(), buf, sizeof(buf), 0);
      if (n > 0) {
        conn.received.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      conn.socket.Close();  // end of stream or reset: the peer has let go of this one
      std::lock_guard lock(mu_);
      --open_;
      responses_.push_back(std::move(conn.received));
      changed_.notify_all();
    }
  }
}

}  // namespace deputy::test
