#pragma once

#include <uv.h>

#include <utility>

namespace deputy {

// Lifetime rules for libuv, which every owner of a handle or request in deputy follows:
// 1. A handle's memory is freed only in its close callback, never before; UvHandle does this.
// 2. Callbacks of requests (write, connect, shutdown, getaddrinfo) and of closing handles can run
//    after the owner is gone. Owners clear `handle->data` before closing, and every trampoline
//    returns at once when it finds data == nullptr.
// 3. No object deletes itself inside its own callback; it asks EventLoop::DeferDelete.
// 4. Nothing is closed or stopped inside an alloc callback.
// 5. At shutdown, listeners stop first, tunnels drain under a deadline, then the loop runs until
//    uv_loop_close succeeds.

// UvHandle owns one libuv handle of type H. Destroying it detaches the owner (data = nullptr)
// and closes the handle through uv_close; the memory is freed in the close callback.
template <typename H>
class UvHandle {
 public:
  UvHandle() = default;
  ~UvHandle() { Close(); }
  UvHandle(UvHandle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  UvHandle& operator=(UvHandle&& other) noexcept {
    if (this != &other) {
      Close();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;

  // Init allocates the handle and runs `init` (e.g. uv_tcp_init) on it; on failure nothing is held.
  template <typename InitFn>
  int Init(InitFn&& init, void* owner) {
    Close();
    H* handle = new H{};
    int rc = init(handle);
    if (rc != 0) {
      delete handle;
      return rc;
    }
    handle->data = owner;
    handle_ = handle;
    return 0;
  }

  H* get() const { return handle_; }
  uv_handle_t* base() const { return reinterpret_cast<uv_handle_t*>(handle_); }
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(handle_); }
  explicit operator bool() const { return handle_ != nullptr; }

  void Close() {
    if (handle_ == nullptr) return;
    H* handle = std::exchange(handle_, nullptr);
    handle->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle),
             [](uv_handle_t* h) { delete reinterpret_cast<H*>(h); });
  }

 private:
  H* handle_ = nullptr;
};

// OwnerOf returns the object that registered itself as the handle's data, or nullptr once the
// owner has detached (rule 2 above).
template <typename Owner, typename Handle>
Owner* OwnerOf(Handle* handle) {
  return static_cast<Owner*>(handle->data);
}

}  // namespace deputy
