#include "loop/event_loop.h"

#include <cstdio>
#include <cstdlib>

namespace deputy {

EventLoop::EventLoop() {
  if (uv_loop_init(&loop_) != 0) {
    std::fputs("deputy: uv_loop_init failed\n", stderr);
    std::abort();
  }
  deferred_idle_.Init([this](uv_idle_t* h) { return uv_idle_init(&loop_, h); }, this);
}

EventLoop::~EventLoop() { Close(); }

void EventLoop::DeferDelete(std::unique_ptr<Deferrable> object) {
  if (!object) return;
  deferred_.push_back(std::move(object));
  if (deferred_.size() == 1 && deferred_idle_) {
    uv_idle_start(deferred_idle_.get(), [](uv_idle_t* h) {
      if (auto* self = OwnerOf<EventLoop>(h)) self->DrainDeferred();
    });
  }
}

void EventLoop::DrainDeferred() {
  // Destructors may defer more objects; keep going until the list stays empty.
  while (!deferred_.empty()) {
    std::vector<std::unique_ptr<Deferrable>> batch;
    batch.swap(deferred_);
    batch.clear();
  }
  if (deferred_idle_) uv_idle_stop(deferred_idle_.get());
}

void EventLoop::Run() { uv_run(&loop_, UV_RUN_DEFAULT); }

void EventLoop::Close() {
  if (closed_) return;
  closed_ = true;
  DrainDeferred();
  deferred_idle_.Close();
  // Handles closed by their owners finish closing here; a handle still open is a bug, so it is
  // closed too rather than leaked.
  uv_run(&loop_, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop_) == UV_EBUSY) {
    uv_walk(
        &loop_,
        [](uv_handle_t* h, void*) {
          if (!uv_is_closing(h)) uv_close(h, nullptr);
        },
        nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }
}

}  // namespace deputy
