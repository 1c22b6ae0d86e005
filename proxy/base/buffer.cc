#include "base/buffer.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace deputy {

namespace {

// At most this many free slices (1 MiB) wait for reuse on each thread.
constexpr size_t kMaxPooledSlices = 64;

struct SlicePool {
  ~SlicePool() {
    for (uint8_t* slice : free) delete[] slice;
  }
  std::vector<uint8_t*> free;
};

thread_local SlicePool slice_pool;

}  // namespace

void Buffer::SliceRecycler::operator()(uint8_t* data) const {
  if (slice_pool.free.size() < kMaxPooledSlices) {
    slice_pool.free.push_back(data);
  } else {
    delete[] data;
  }
}

Buffer::SliceMemory Buffer::NewSlice() {
  if (slice_pool.free.empty()) return SliceMemory(new uint8_t[kSliceSize]);
  uint8_t* data = slice_pool.free.back();
  slice_pool.free.pop_back();
  return SliceMemory(data);
}

std::span<uint8_t> Buffer::Reserve() {
  if (slices_.empty() || slices_.back().end == slices_.back().capacity) {
    Slice slice;
    slice.data = NewSlice();
    slice.capacity = kSliceSize;
    slices_.push_back(std::move(slice));
  }
  Slice& tail = slices_.back();
  return {tail.data.get() + tail.end, tail.capacity - tail.end};
}

void Buffer::Commit(size_t n) {
  if (slices_.empty()) return;
  Slice& tail = slices_.back();
  tail.end += n;
  size_ += n;
  if (tail.end == tail.begin) slices_.pop_back();
}

void Buffer::Append(const void* data, size_t n) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  while (n > 0) {
    std::span<uint8_t> space = Reserve();
    size_t chunk = std::min(n, space.size());
    std::memcpy(space.data(), bytes, chunk);
    Commit(chunk);
    bytes += chunk;
    n -= chunk;
  }
}

void Buffer::Take(Slice slice) {
  size_t bytes = slice.end - slice.begin;
  if (bytes == 0) return;
  size_ += bytes;
  if (!slices_.empty()) {
    Slice& tail = slices_.back();
    if (bytes <= tail.capacity - tail.end) {
      std::memcpy(tail.data.get() + tail.end, slice.data.get() + slice.begin, bytes);
      tail.end += bytes;
      return;
    }
    if (slice.begin > 0) {
      std::memmove(slice.data.get(), slice.data.get() + slice.begin, bytes);
      slice.begin = 0;
      slice.end = bytes;
    }
  }
  slices_.push_back(std::move(slice));
}

void Buffer::MoveFrom(Buffer& other) {
  if (&other == this) return;
  for (Slice& s : other.slices_) Take(std::move(s));
  other.slices_.clear();
  other.size_ = 0;
}

void Buffer::MoveFrom(Buffer& other, size_t n) {
  if (&other == this) return;
  n = std::min(n, other.size_);
  while (n > 0) {
    Slice& head = other.slices_.front();
    size_t available = head.end - head.begin;
    if (available <= n) {
      other.size_ -= available;
      n -= available;
      Take(std::move(head));
      other.slices_.pop_front();
    } else {
      Append(head.data.get() + head.begin, n);
      other.Drain(n);
      n = 0;
    }
  }
}

void Buffer::Drain(size_t n) {
  n = std::min(n, size_);
  size_ -= n;
  while (n > 0) {
    Slice& head = slices_.front();
    size_t available = head.end - head.begin;
    if (available <= n) {
      n -= available;
      slices_.pop_front();
    } else {
      head.begin += n;
      n = 0;
    }
  }
}

void Buffer::Clear() {
  slices_.clear();
  size_ = 0;
}

std::span<const uint8_t> Buffer::Front() const {
  for (const Slice& s : slices_) {
    if (s.end > s.begin) return {s.data.get() + s.begin, s.end - s.begin};
  }
  return {};
}

size_t Buffer::CopyOut(void* out, size_t n) const {
  auto* dest = static_cast<uint8_t*>(out);
  size_t copied = 0;
  for (const Slice& s : slices_) {
    if (copied == n) break;
    size_t chunk = std::min(n - copied, s.end - s.begin);
    std::memcpy(dest + copied, s.data.get() + s.begin, chunk);
    copied += chunk;
  }
  return copied;
}

std::string Buffer::ToString() const {
  std::string out(size_, '\0');
  CopyOut(out.data(), size_);
  return out;
}

}  // namespace deputy
