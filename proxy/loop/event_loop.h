#pragma once

#include <uv.h>

#include <memory>
#include <vector>

#include "loop/uv_handle.h"

namespace deputy {

// Deferrable is anything whose destruction EventLoop::DeferDelete may postpone.
class Deferrable {
 public:
  virtual ~Deferrable() = default;
};

// EventLoop owns one uv_loop_t. deputy runs one loop on one thread; nothing here is thread-safe.
class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  uv_loop_t* get() { return &loop_; }

  // DeferDelete destroys `object` on the next loop iteration, outside any of its callbacks.
  void DeferDelete(std::unique_ptr<Deferrable> object);

  // Run runs the loop until nothing is left to do or Stop is called.
  void Run();
  void Stop() { uv_stop(&loop_); }

  // Close releases the loop's own handles and runs the loop until every handle has closed.
  void Close();

 private:
  void DrainDeferred();

  uv_loop_t loop_{};
  UvHandle<uv_idle_t> deferred_idle_;
  std::vector<std::unique_ptr<Deferrable>> deferred_;
  bool closed_ = false;
};

}  // namespace deputy
