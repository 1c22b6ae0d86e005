#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "support/acceptor.h"
#include "support/counter.h"
#include "support/socket.h"
#include "support/tls_connection.h"
#include "support/wait.h"

namespace deputy::test {

// TcpConnection is the plain-TCP counterpart of TlsConnection, for servers that misbehave below
// TLS (accept and stay silent, close or reset at once, speak something else).
class TcpConnection {
 public:
  TcpConnection(Socket sock, int stop_fd, Counter* bytes_received);

  // ReadSome returns bytes read (> 0), 0 on EOF, -1 on error, timeout or stop.
  ssize_t ReadSome(void* buf, size_t n, Millis timeout = kDefaultTimeout);
  bool ReadExact(void* buf, size_t n, Millis timeout = kDefaultTimeout);
  bool WriteAll(std::string_view data, Millis timeout = kDefaultTimeout);
  bool ShutdownWrite();
  // CloseWithReset aborts the connection with a TCP RST.
  void CloseWithReset() { sock_.CloseWithReset(); }
  // WaitForPeerClose discards what the peer sends until it closes or resets the connection;
  // false on timeout or stop.
  bool WaitForPeerClose(Millis timeout = kDefaultTimeout);

  IoStatus last_status() const { return last_status_; }
  int fd() const { return sock_.fd(); }

 private:
  Socket sock_;
  int stop_fd_;
  Counter* bytes_received_;
  IoStatus last_status_ = IoStatus::kOk;
};

// TcpServer accepts plain TCP on 127.0.0.1 (port 0) and runs `handler` on a thread per
// connection, like TlsServer without the handshake.
class TcpServer {
 public:
  using Handler = std::function<void(TcpConnection&)>;

  explicit TcpServer(Handler handler, int max_concurrent = 256);
  ~TcpServer() { Stop(); }
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  uint16_t port() const { return acceptor_.port(); }
  const Counter& accepted() const { return acceptor_.accepted(); }
  const Counter& bytes_received() const { return bytes_received_; }
  void Stop() { acceptor_.Stop(); }

  // Ready handlers.
  // HoldOpen never sends anything and keeps the connection until the peer closes or the server
  // stops, counting what it receives.
  static Handler HoldOpen();
  // CloseAtOnce closes right after accepting (FIN); ResetAtOnce resets (RST).
  static Handler CloseAtOnce();
  static Handler ResetAtOnce();

 private:
  Handler handler_;
  Counter bytes_received_;
  Acceptor acceptor_;  // last: it stops first and joins the threads using the members above
};

}  // namespace deputy::test
