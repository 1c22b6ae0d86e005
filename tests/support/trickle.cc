#include "support/trickle.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <thread>
#include <utility>

#include "support/client.h"

namespace deputy::test {

namespace {

// Handlers hold their connection until the server stops, long before this.
constexpr Millis kHoldTimeout{300000};

}  // namespace

char TrickleByte(size_t i) { return static_cast<char>('a' + i % 26); }

std::string TrickleData(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = TrickleByte(i);
  return out;
}

bool SetNoDelay(int fd) {
  int on = 1;
  return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == 0;
}

namespace {

bool SetSmallWindow(int fd) {
  int segment = kSmallSegment;
  int buffer = kSmallReceiveBuffer;
  return setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &segment, sizeof(segment)) == 0 &&
         setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer)) == 0;
}

}  // namespace

Socket ConnectTcpWithSmallWindow(uint16_t port, Millis timeout) {
  return ConnectTcp(port, timeout, SetSmallWindow);
}

bool ShrinkListenerWindow(uint16_t port) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
    int fd = std::atoi(entry.path().filename().c_str());
    int listening = 0;
    socklen_t len = sizeof(listening);
    sockaddr_in addr = {};
    socklen_t addr_len = sizeof(addr);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0 ||
        addr.sin_family != AF_INET || ntohs(addr.sin_port) != port) {
      continue;
    }
    return SetSmallWindow(fd);
  }
  return false;
}

bool TrickleWrites(int fd, size_t count, std::chrono::microseconds gap, Millis timeout) {
  if (!SetNoDelay(fd)) return false;
  Deadline deadline(timeout);
  for (size_t i = 0; i < count; ++i) {
    char byte = TrickleByte(i);
    if (!SendAll(fd, std::string_view(&byte, 1), deadline.Remaining())) return false;
    std::this_thread::sleep_for(gap);
  }
  return true;
}

TlsServer::Handler TrickleRecords(std::string lead, size_t count, std::chrono::microseconds gap,
                                  Counter* sent) {
  return [lead = std::move(lead), count, gap, sent](TlsConnection& conn) {
    char go;
    if (!SetNoDelay(conn.fd()) || !conn.ReadExact(&go, 1, kHoldTimeout) ||
        !conn.WriteAll(lead, kHoldTimeout)) {
      return;
    }
    for (size_t i = 0; i < count; ++i) {
      char byte = TrickleByte(i);
      if (!conn.WriteAll(std::string_view(&byte, 1), kHoldTimeout)) return;
      sent->Add();
      std::this_thread::sleep_for(gap);
    }
    conn.Pause(kHoldTimeout);
  };
}

}  // namespace deputy::test
