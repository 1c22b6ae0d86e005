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
  const int rc = post_async_.Init(
      [this](uv_async_t* h) {
        return uv_async_init(&loop_, h, [](uv_async_t* async) {
          if (auto* self = OwnerOf<EventLoop>(async)) self->RunPosted();
        });
      },
      this);
  if (rc != 0) {
    std::fputs("deputy: uv_async_init failed\n", stderr);
    std::abort();
  }
  // The async handle alone must not keep Run from returning once everything else is done.
  uv_unref(post_async_.base());
  posts_open_ = true;
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

void EventLoop::Post(std::function<void()> task) {
  std::unique_lock lock(posted_mutex_);
  if (!posts_open_) {
    lock.unlock();
    return;  // `task` is destroyed here, unrun
  }
  posted_.push_back(std::move(task));
  // Several sends before the loop wakes coalesce into one callback, which runs them all.
  uv_async_send(post_async_.get());
}

void EventLoop::Hold() {
  if (holds_++ == 0 && post_async_) uv_ref(post_async_.base());
}

void EventLoop::Unhold() {
  if (holds_ > 0 && --holds_ == 0 && post_async_) uv_unref(post_async_.base());
}

void EventLoop::RunPosted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(posted_mutex_);
    tasks.swap(posted_);
  }
  for (std::function<void()>& task : tasks) task();
}

void EventLoop::Run() { uv_run(&loop_, UV_RUN_DEFAULT); }

void EventLoop::Close() {
  if (closed_) return;
  closed_ = true;
  std::vector<std::function<void()>> unrun;
  {
    std::lock_guard lock(posted_mutex_);
    posts_open_ = false;
    unrun.swap(posted_);
  }
  unrun.clear();
  post_async_.Close();
  DrainDeferred();
  deferred_idle_.Close();
  // Handles closed by their owners finish closing here; a handle still open is a bug, so it is
  // closed too rather than leaked. A close callback may defer a deletion, whose destructor may
  // close handles in turn: run until neither is left, while the loop and its members exist.
  uv_run(&loop_, UV_RUN_DEFAULT);
  while (!deferred_.empty()) {
    DrainDeferred();
    uv_run(&loop_, UV_RUN_DEFAULT);
  }
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
