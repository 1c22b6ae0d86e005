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
// over whole slices, so large reads are never copied; but a slice whose bytes fit into the free
// room of the destination's last slice is copied there instead. So every slice handed over
// carries more bytes than the room left before it, and a buffer holds at most
// 2 x size() + 2 slices of memory however small the pieces it was built from (a peer sending
// 1-byte records cannot pin a 16 KiB slice per byte). An empty Buffer holds no memory, which
// keeps idle tunnels cheap.
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
  // capacity is the memory held: every slice counts whole, however few bytes it carries.
  size_t capacity() const { return slices_.size() * kSliceSize; }

  // Reserve returns writable space at the tail; Commit(n) then makes n bytes of it readable.
  // Commit(0) gives back an unused slice, so a failed read holds no memory.
  std::span<uint8_t> Reserve();
  void Commit(size_t n);

  void Append(const void* data, size_t n);
  void Append(std::string_view text) { Append(text.data(), text.size()); }
  // MoveFrom takes every byte of `other`, leaving it empty; see the class comment for when the
  // bytes are copied rather than their slices handed over.
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

  // Take appends the bytes of `slice`: copied into the tail's free room when they fit there,
  // otherwise by keeping the slice (moved to its front first if it was drained and lands behind
  // other slices, so only the first slice ever holds a drained front).
  void Take(Slice slice);

  std::deque<Slice> slices_;
  size_t size_ = 0;
};

}  // namespace deputy
