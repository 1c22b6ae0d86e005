#include "support/tcp_server.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <utility>

namespace deputy::test {

namespace {

// Handlers that wait for the peer are ended by the server's stop long before this.
constexpr Millis kHoldTimeout{300000};

}  // namespace

TcpConnection::TcpConnection(Socket sock, int stop_fd, Counter* bytes_received)
    : sock_(std::move(sock)), stop_fd_(stop_fd), bytes_received_(bytes_received) {}

ssize_t TcpConnection::ReadSome(void* buf, size_t n, Millis timeout) {
  Deadline deadline(timeout);
  for (;;) {
    ssize_t got = recv(sock_.fd(), buf, n, MSG_DONTWAIT);
    if (got > 0) {
      if (bytes_received_ != nullptr) bytes_received_->Add(static_cast<uint64_t>(got));
      last_status_ = IoStatus::kOk;
      return got;
    }
    if (got == 0) {
      last_status_ = IoStatus::kClosed;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      last_status_ = IoStatus::kError;
      return -1;
    }
    switch (WaitFd(sock_.fd(), POLLIN, deadline, stop_fd_)) {
      case WaitResult::kReady:
        break;
      case WaitResult::kTimeout:
        last_status_ = IoStatus::kTimeout;
        return -1;
      case WaitResult::kStopped:
        last_status_ = IoStatus::kStopped;
        return -1;
      case WaitResult::kError:
        last_status_ = IoStatus::kError;
        return -1;
    }
  }
}

bool TcpConnection::ReadExact(void* buf, size_t n, Millis timeout) {
  return ReadExactly(*this, buf, n, timeout);
}

bool TcpConnection::WriteAll(std::string_view data, Millis timeout) {
  Deadline deadline(timeout);
  while (!data.empty()) {
    ssize_t n = send(sock_.fd(), data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      last_status_ = IoStatus::kError;
      return false;
    }
    WaitResult wait = WaitFd(sock_.fd(), POLLOUT, deadline, stop_fd_);
    if (wait != WaitResult::kReady) {
      last_status_ = wait == WaitResult::kTimeout   ? IoStatus::kTimeout
                     : wait == WaitResult::kStopped ? IoStatus::kStopped
                                                    : IoStatus::kError;
      return false;
    }
  }
  last_status_ = IoStatus::kOk;
  return true;
}

bool TcpConnection::ShutdownWrite() { return shutdown(sock_.fd(), SHUT_WR) == 0; }

bool TcpConnection::WaitForPeerClose(Millis timeout) {
  Deadline deadline(timeout);
  char buf[16384];
  for (;;) {
    ssize_t got = ReadSome(buf, sizeof(buf), deadline.Remaining());
    if (got == 0) return true;
    if (got < 0) return last_status_ == IoStatus::kError;  // a reset closes it too
  }
}

TcpServer::TcpServer(Handler handler, int max_concurrent)
    : handler_(std::move(handler)),
      acceptor_(
          [this](Socket sock, const StopEvent& stop) {
            TcpConnection conn(std::move(sock), stop.fd(), &bytes_received_);
            try {
              handler_(conn);
            } catch (const std::exception& e) {
              std::fprintf(stderr, "TcpServer handler threw: %s\n", e.what());
            }
          },
          max_concurrent) {}

TcpServer::Handler TcpServer::HoldOpen() {
  return [](TcpConnection& conn) { conn.WaitForPeerClose(kHoldTimeout); };
}

TcpServer::Handler TcpServer::CloseAtOnce() {
  return [](TcpConnection&) {};
}

TcpServer::Handler TcpServer::ResetAtOnce() {
  return [](TcpConnection& conn) { conn.CloseWithReset(); };
}

}  // namespace deputy::test
