#include "loop/timer.h"

namespace deputy {

Timer::Timer(EventLoop& loop, std::function<void()> on_fire) : on_fire_(std::move(on_fire)) {
  handle_.Init([&loop](uv_timer_t* h) { return uv_timer_init(loop.get(), h); }, this);
}

void Timer::Start(uint64_t delay_ms) {
  uv_timer_start(
      handle_.get(),
      [](uv_timer_t* h) {
        auto* self = OwnerOf<Timer>(h);
        if (self == nullptr) return;
        self->on_fire_();
      },
      delay_ms, 0);
}

void Timer::Stop() { uv_timer_stop(handle_.get()); }

}  // namespace deputy
