#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

#include "support/counter.h"
#include "support/socket.h"
#include "support/wait.h"

namespace deputy::test {

// Acceptor listens on 127.0.0.1 (port 0) and runs `serve` on a thread of its own for every
// accepted connection, at most `max_concurrent` at once (further connections wait in the
// backlog). `serve` gets the stop event so its waits end when the acceptor stops. Servers hold an
// Acceptor as their last member, so it stops, and joins every thread, before anything `serve`
// uses is destroyed.
class Acceptor {
 public:
  using Serve = std::function<void(Socket, const StopEvent&)>;

  // `address` is the loopback address to listen on, in host order; `port` 0 takes any port.
  explicit Acceptor(Serve serve, int max_concurrent = 256, uint32_t address = INADDR_LOOPBACK,
                    uint16_t port = 0);
  ~Acceptor() { Stop(); }
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  uint16_t port() const { return port_; }
  const Counter& accepted() const { return accepted_; }
  // Stop closes the listener, wakes every waiting connection thread and joins them all.
  // Idempotent.
  void Stop();

 private:
  struct Worker {
    std::thread thread;
    bool done = false;
  };

  void AcceptLoop();
  // ReapLocked joins finished workers and returns how many are still running.
  int ReapLocked();

  Serve serve_;
  const int max_concurrent_;
  StopEvent stop_;
  Socket listener_;
  uint16_t port_ = 0;
  Counter accepted_;
  std::mutex mu_;
  std::condition_variable worker_done_;
  std::list<Worker> workers_;
  std::thread accept_thread_;
  std::once_flag stop_once_;
};

}  // namespace deputy::test
