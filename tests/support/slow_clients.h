#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/socket.h"
#include "support/wait.h"

namespace deputy::test {

// SlowClients is a slowloris: it opens `count` connections to 127.0.0.1:`port` and, from a
// thread of its own, sends `text` on each one byte at a time, one byte per connection every
// `interval`, until the text runs out (then it just holds the connection) or the peer closes.
// It keeps what the peer sends back on each connection. The destructor stops it and closes
// every connection.
class SlowClients {
 public:
  SlowClients(uint16_t port, size_t count, std::string text, Millis interval);
  ~SlowClients();
  SlowClients(const SlowClients&) = delete;
  SlowClients& operator=(const SlowClients&) = delete;

  // Connections established by the constructor.
  size_t connected() const { return connected_; }
  // Connections the peer has not closed yet.
  size_t open() const;
  // Bytes dripped so far, over all connections.
  uint64_t bytes_sent() const;
  // WaitForClosed waits until the peer has closed at least `n` connections.
  bool WaitForClosed(size_t n, Millis timeout) const;
  // What the peer sent on each connection it closed, in the order it closed them.
  std::vector<std::string> responses() const;

 private:
  struct Connection {
    Socket socket;
    size_t sent = 0;
    std::string received;
  };

  void Run();
  void DripOneByteEach();
  // ReadUntil reads what the peers send until `tick` passes; false once stopping.
  bool ReadUntil(const Deadline& tick);

  const std::string text_;
  const Millis interval_;
  std::vector<Connection> connections_;  // the drip thread's alone once it runs
  size_t connected_ = 0;

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  size_t open_ = 0;
  uint64_t bytes_sent_ = 0;
  std::vector<std::string> responses_;

  StopEvent stop_;
  std::thread thread_;
};

}  // namespace deputy::test
