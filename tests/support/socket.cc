#include "support/socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <mutex>

#include "support/die.h"

namespace deputy::test {

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.Release();
  }
  return *this;
}

int Socket::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void Socket::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

void Socket::CloseWithReset() {
  if (fd_ < 0) return;
  linger option = {1, 0};
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &option, sizeof(option));
  Close();
}

bool SetNonBlocking(int fd, bool on) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return false;
  return fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK) == 0;
}

void IgnoreSigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

Socket ListenLoopback(uint16_t* port, uint32_t host_order_address, uint16_t wanted_port) {
  if ((host_order_address >> 24) != 127) Die("ListenLoopback: tests listen on 127.0.0.0/8 only");
  IgnoreSigpipe();
  Socket sock(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sock.valid()) DieErrno("socket");
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(host_order_address);
  addr.sin_port = htons(wanted_port);
  if (bind(sock.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) DieErrno("bind");
  if (listen(sock.fd(), 1024) != 0) DieErrno("listen");
  socklen_t len = sizeof(addr);
  if (getsockname(sock.fd(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    DieErrno("getsockname");
  }
  *port = ntohs(addr.sin_port);
  return sock;
}

Socket ReserveClosedPort(uint16_t* port) {
  Socket sock(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) DieErrno("socket");
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(sock.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) DieErrno("bind");
  socklen_t len = sizeof(addr);
  if (getsockname(sock.fd(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    DieErrno("getsockname");
  }
  *port = ntohs(addr.sin_port);
  return sock;
}

}  // namespace deputy::test
