#include "support/acceptor.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <utility>

#include "support/die.h"

namespace deputy::test {

Acceptor::Acceptor(Serve serve, int max_concurrent, uint32_t address, uint16_t port)
    : serve_(std::move(serve)), max_concurrent_(max_concurrent) {
  listener_ = ListenLoopback(&port_, address, port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

void Acceptor::Stop() {
  std::call_once(stop_once_, [this] {
    stop_.Fire();
    {
      // Taking the lock orders the fire before a waiting accept loop re-checks its predicate.
      std::lock_guard lock(mu_);
      worker_done_.notify_all();
    }
    accept_thread_.join();
    listener_.Close();
    std::list<Worker> workers;
    {
      std::lock_guard lock(mu_);
      workers.swap(workers_);
    }
    for (Worker& worker : workers) worker.thread.join();
  });
}

int Acceptor::ReapLocked() {
  int running = 0;
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->done) {
      // The worker set `done` as its last act under the lock we hold, so it is exiting.
      it->thread.join();
      it = workers_.erase(it);
    } else {
      ++running;
      ++it;
    }
  }
  return running;
}

void Acceptor::AcceptLoop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      worker_done_.wait(lock, [this] { return stop_.fired() || ReapLocked() < max_concurrent_; });
    }
    WaitResult wait = WaitFd(listener_.fd(), POLLIN, Deadline(Millis(1000)), stop_.fd());
    if (wait == WaitResult::kStopped) return;
    if (wait != WaitResult::kReady) continue;
    Socket conn(accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!conn.valid()) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) continue;
      DieErrno("accept4");
    }
    accepted_.Add();
    std::lock_guard lock(mu_);
    Worker& worker = workers_.emplace_back();
    worker.thread = std::thread([this, &worker, conn = std::move(conn)]() mutable {
      serve_(std::move(conn), stop_);
      std::lock_guard lock(mu_);
      worker.done = true;
      worker_done_.notify_all();
    });
  }
}

}  // namespace deputy::test
