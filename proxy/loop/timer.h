#pragma once

#include <cstdint>
#include <functional>

#include "loop/event_loop.h"
#include "loop/uv_handle.h"

namespace deputy {

// Timer runs a callback once after a delay. Destroying it cancels the callback.
class Timer {
 public:
  Timer(EventLoop& loop, std::function<void()> on_fire);
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Start (re)arms the timer; a zero delay still fires on the next iteration.
  void Start(uint64_t delay_ms);
  void Stop();

 private:
  UvHandle<uv_timer_t> handle_;
  std::function<void()> on_fire_;
};

}  // namespace deputy
