#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "loop/uv_handle.h"

namespace deputy {

// Deferrable is anything whose destruction EventLoop::DeferDelete may postpone.
class Deferrable {
 public:
  virtual ~Deferrable() = default;
};

// EventLoop owns one uv_loop_t, run by one thread. Post is the only member another thread may
// call; everything else belongs to the loop's own thread.
class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  uv_loop_t* get() { return &loop_; }

  // DeferDelete destroys `object` on the next loop iteration, outside any of its callbacks.
  void DeferDelete(std::unique_ptr<Deferrable> object);

  // Post runs `task` on the loop's thread, on a later turn; callable from any thread. Tasks
  // posted after Close are destroyed unrun, on the poster's thread. A posted task does not keep
  // Run from returning; Hold does.
  void Post(std::function<void()> task);
  // Hold keeps Run from returning, as an active handle would, until the matching Unhold: for
  // work on another thread whose answer comes back through Post. Loop thread only.
  void Hold();
  void Unhold();

  // Run runs the loop until nothing is left to do or Stop is called.
  void Run();
  void Stop() { uv_stop(&loop_); }

  // Close releases the loop's own handles and runs the loop until every handle has closed.
  void Close();

 private:
  void DrainDeferred();
  void RunPosted();

  uv_loop_t loop_{};
  UvHandle<uv_idle_t> deferred_idle_;
  std::vector<std::unique_ptr<Deferrable>> deferred_;
  bool closed_ = false;

  // The posted tasks; `posts_open_` turns false once the async handle starts closing, so no
  // thread calls uv_async_send on a closing handle.
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  bool posts_open_ = false;
  size_t holds_ = 0;
  UvHandle<uv_async_t> post_async_;
};

}  // namespace deputy
