#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "support/counter.h"
#include "support/tls_server.h"

namespace deputy::test {

// Ready-made TlsServer handlers. Their waits for the peer are bounded by a long timeout and end
// at once when the server stops.

// Echo sends back everything it receives. When the client half-closes, it finishes echoing,
// then sends close_notify and shuts down its own write side.
TlsServer::Handler Echo();

// SendThenHalfClose sends `data`, half-closes (close_notify + FIN), then keeps reading until the
// peer closes; what it reads shows in the server's bytes_received().
TlsServer::Handler SendThenHalfClose(std::string data);

// RecordingSink keeps every byte any connection sends; it must outlive the server using it.
class RecordingSink {
 public:
  TlsServer::Handler handler();

  std::string received() const;
  // bytes() counts bytes received; closed() counts connections that ended (by close or error).
  const Counter& bytes() const { return bytes_; }
  const Counter& closed() const { return closed_; }

 private:
  mutable std::mutex mu_;
  std::string received_;
  Counter bytes_;
  Counter closed_;
};

}  // namespace deputy::test
