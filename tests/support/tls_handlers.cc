#include "support/tls_handlers.h"

#include <utility>

namespace deputy::test {

namespace {

// Handlers that wait for the peer are ended by the server's stop long before this.
constexpr Millis kIdleTimeout{300000};

}  // namespace

TlsServer::Handler Echo() {
  return [](TlsConnection& conn) {
    char buf[65536];
    for (;;) {
      ssize_t n = conn.ReadSome(buf, sizeof(buf), kIdleTimeout);
      if (n < 0) return;
      if (n == 0) {
        conn.ShutdownWrite();
        return;
      }
      if (!conn.WriteAll(std::string_view(buf, static_cast<size_t>(n)), kIdleTimeout)) return;
    }
  };
}

TlsServer::Handler SendThenHalfClose(std::string data) {
  return [data = std::move(data)](TlsConnection& conn) {
    if (!conn.WriteAll(data, kIdleTimeout) || !conn.ShutdownWrite()) return;
    char buf[65536];
    while (conn.ReadSome(buf, sizeof(buf), kIdleTimeout) > 0) {
    }
  };
}

TlsServer::Handler RecordingSink::handler() {
  return [this](TlsConnection& conn) {
    char buf[65536];
    ssize_t n;
    while ((n = conn.ReadSome(buf, sizeof(buf), kIdleTimeout)) > 0) {
      {
        std::lock_guard lock(mu_);
        received_.append(buf, static_cast<size_t>(n));
      }
      bytes_.Add(static_cast<uint64_t>(n));
    }
    closed_.Add();
  };
}

std::string RecordingSink::received() const {
  std::lock_guard lock(mu_);
  return received_;
}

}  // namespace deputy::test
