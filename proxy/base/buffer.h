#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace deputy {

// Buffer is a queue of bytes held in fixed-size slices. Bytes move between buffers by handing
// over whole slices, so the data path copies only where a library demands it (the kernel and
// the TLS record layer). An empty Buffer holds no memory, which keeps idle tunnels cheap.
class Buffer {
 public:
  static constexpr size_t kSliceSize = 16 * 1024;

  Buffer() = default;
  Buffer(Buffer&&) noexcept = default;
  Buffer& operator=(Buffer&&) noexcept = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Reserve returns writable space at the tail; Commit(n) then makes n bytes of it readable.
  // Commit(0) gives back an unused slice, so a failed read holds no memory.
  std::span<uint8_t> Reserve();
  void Commit(size_t n);

  void Append(const void* data, size_t n);
  void Append(std::string_view text) { Append(text.data(), text.size()); }
  // MoveFrom takes every byte of `other`, leaving it empty.
  void MoveFrom(Buffer& other);
  // MoveFrom takes the first `n` bytes of `other`.
  void MoveFrom(Buffer& other, size_t n);
  void Drain(size_t n);
  void Clear();

  // Front is the first contiguous run of readable bytes (empty when the buffer is).
  std::span<const uint8_t> Front() const;
  // CopyOut copies up to `n` bytes from the front without draining; returns the count.
  size_t CopyOut(void* out, size_t n) const;
  std::string ToString() const;

  // ForEachSlice calls fn(data, size) for each readable run in order; for vectored writes.
  template <typename Fn>
  void ForEachSlice(Fn&& fn) const {
    for (const Slice& s : slices_) {
      if (s.end > s.begin) fn(s.data.get() + s.begin, s.end - s.begin);
    }
  }

 private:
  // SliceRecycler returns a freed slice to a small per-thread pool, so a busy tunnel does not
  // make the allocator grow and shrink the heap on every read.
  struct SliceRecycler {
    void operator()(uint8_t* data) const;
  };
  using SliceMemory = std::unique_ptr<uint8_t[], SliceRecycler>;
  static SliceMemory NewSlice();

  struct Slice {
    SliceMemory data;
    size_t capacity = 0;
    size_t begin = 0;
    size_t end = 0;
  };

  std::deque<Slice> slices_;
  size_t size_ = 0;
};

}  // namespace deputy
