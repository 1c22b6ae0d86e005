#pragma once

#include <netinet/in.h>

#include <cstdint>

namespace deputy::test {

// Socket owns a file descriptor and closes it when destroyed.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() { Close(); }
  Socket(Socket&& other) noexcept : fd_(other.Release()) {}
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();
  void Close();
  // CloseWithReset closes so that the peer sees a TCP RST instead of a FIN.
  void CloseWithReset();

 private:
  int fd_ = -1;
};

// SetNonBlocking turns O_NONBLOCK on or off.
bool SetNonBlocking(int fd, bool on);

// IgnoreSigpipe makes writes to a closed socket fail with EPIPE instead of killing the test
// binary (BoringSSL writes with write(2), which cannot pass MSG_NOSIGNAL). Idempotent.
void IgnoreSigpipe();

// ListenLoopback binds a non-blocking TCP listener on `host_order_address` (127.0.0.1 unless
// another loopback address is asked for) and `wanted_port` (0: the kernel chooses), and sets
// `*port` to the port bound.
Socket ListenLoopback(uint16_t* port, uint32_t host_order_address = INADDR_LOOPBACK,
                      uint16_t wanted_port = 0);

// ReserveClosedPort binds a port on 127.0.0.1 without listening: while the returned socket
// lives, no one else can take the port and every connection to it is refused.
Socket ReserveClosedPort(uint16_t* port);

}  // namespace deputy::test
