#include "base/buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace deputy {
namespace {

std::string Pattern(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>('a' + i % 26);
  return out;
}

TEST(BufferTest, EmptyBufferHoldsNothing) {
  Buffer buffer;
  EXPECT_TRUE(buffer.empty());
  EXPECT_TRUE(buffer.Front().empty());
  EXPECT_EQ(buffer.ToString(), "");
}

TEST(BufferTest, AppendSpansSlicesAndKeepsOrder) {
  Buffer buffer;
  std::string data = Pattern(Buffer::kSliceSize * 2 + 123);
  buffer.Append(data);
  EXPECT_EQ(buffer.size(), data.size());
  EXPECT_EQ(buffer.ToString(), data);
  EXPECT_EQ(buffer.Front().size(), Buffer::kSliceSize);
}

TEST(BufferTest, ReserveCommitAndUnusedReserveIsReleased) {
  Buffer buffer;
  auto space = buffer.Reserve();
  ASSERT_GE(space.size(), 5u);
  std::memcpy(space.data(), "hello", 5);
  buffer.Commit(5);
  EXPECT_EQ(buffer.ToString(), "hello");
  buffer.Drain(5);
  buffer.Reserve();
  buffer.Commit(0);
  EXPECT_TRUE(buffer.empty());
  EXPECT_TRUE(buffer.Front().empty());
}

TEST(BufferTest, DrainAcrossSlices) {
  Buffer buffer;
  std::string data = Pattern(Buffer::kSliceSize + 100);
  buffer.Append(data);
  buffer.Drain(Buffer::kSliceSize + 50);
  EXPECT_EQ(buffer.ToString(), data.substr(Buffer::kSliceSize + 50));
  buffer.Drain(1000);
  EXPECT_TRUE(buffer.empty());
}

TEST(BufferTest, MoveAllAndPartial) {
  Buffer source;
  std::string data = Pattern(Buffer::kSliceSize + 10);
  source.Append(data);
  Buffer head;
  head.MoveFrom(source, 7);
  EXPECT_EQ(head.ToString(), data.substr(0, 7));
  EXPECT_EQ(source.ToString(), data.substr(7));
  head.MoveFrom(source);
  EXPECT_TRUE(source.empty());
  EXPECT_EQ(head.ToString(), data);
}

TEST(BufferTest, CopyOutDoesNotDrain) {
  Buffer buffer;
  buffer.Append("abcdef");
  char out[4] = {};
  EXPECT_EQ(buffer.CopyOut(out, 3), 3u);
  EXPECT_EQ(std::string(out, 3), "abc");
  EXPECT_EQ(buffer.size(), 6u);
}

TEST(BufferTest, ForEachSliceVisitsEveryByteOnce) {
  Buffer buffer;
  std::string data = Pattern(Buffer::kSliceSize * 3);
  buffer.Append(data);
  buffer.Drain(10);
  std::string seen;
  buffer.ForEachSlice(
      [&](const uint8_t* p, size_t n) { seen.append(reinterpret_cast<const char*>(p), n); });
  EXPECT_EQ(seen, data.substr(10));
}

// Pointers to each readable run, in order.
std::vector<const uint8_t*> Runs(const Buffer& buffer) {
  std::vector<const uint8_t*> runs;
  buffer.ForEachSlice([&](const uint8_t* p, size_t) { runs.push_back(p); });
  return runs;
}

TEST(BufferTest, EmptyBufferHasNoCapacity) {
  Buffer buffer;
  buffer.Append("x");
  EXPECT_EQ(buffer.capacity(), Buffer::kSliceSize);
  buffer.Drain(1);
  EXPECT_EQ(buffer.capacity(), 0u);
}

TEST(BufferTest, ManyOneByteMovesShareSlices) {
  // As when a peer sends 1-byte records: each arrives in a slice of its own.
  Buffer queue;
  std::string expected;
  for (size_t i = 0; i < 30000; ++i) {
    Buffer read;
    char byte = static_cast<char>('a' + i % 26);
    read.Append(&byte, 1);
    queue.MoveFrom(read);
    EXPECT_EQ(read.capacity(), 0u);
    expected.push_back(byte);
  }
  EXPECT_EQ(queue.size(), 30000u);
  EXPECT_LE(queue.capacity(), 2 * Buffer::kSliceSize);
  EXPECT_EQ(queue.ToString(), expected);
}

TEST(BufferTest, ManyOneBytePartialMovesShareSlices) {
  Buffer queue;
  for (size_t i = 0; i < 30000; ++i) {
    Buffer read;
    read.Append("y");
    queue.MoveFrom(read, 1);
  }
  EXPECT_EQ(queue.size(), 30000u);
  EXPECT_LE(queue.capacity(), 2 * Buffer::kSliceSize);
  EXPECT_EQ(queue.ToString(), std::string(30000, 'y'));
}

TEST(BufferTest, FullSlicesAreHandedOverNotCopied) {
  Buffer source;
  source.Append(Pattern(2 * Buffer::kSliceSize));
  std::vector<const uint8_t*> before = Runs(source);
  Buffer queue;
  queue.Append("head");
  queue.MoveFrom(source);
  std::vector<const uint8_t*> after = Runs(queue);
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[1], before[0]);
  EXPECT_EQ(after[2], before[1]);
  EXPECT_EQ(queue.ToString(), "head" + Pattern(2 * Buffer::kSliceSize));
}

TEST(BufferTest, MovedDrainedSliceKeepsItsBytes) {
  // A slice whose front was consumed lands behind other slices without its drained front.
  std::string data = Pattern(Buffer::kSliceSize);
  Buffer source;
  source.Append(data);
  source.Drain(100);
  Buffer queue;
  queue.Append(Pattern(Buffer::kSliceSize - 200));
  queue.MoveFrom(source);
  EXPECT_EQ(queue.ToString(), Pattern(Buffer::kSliceSize - 200) + data.substr(100));
  EXPECT_EQ(queue.capacity(), 2 * Buffer::kSliceSize);
  queue.Append(std::string(99, '!'));
  EXPECT_EQ(queue.capacity(), 2 * Buffer::kSliceSize);
}

TEST(BufferTest, CapacityStaysWithinTwiceTheBytesPlusTwoSlices) {
  // Random mixes of moves, partial moves, appends and drains, checked against a plain string.
  std::mt19937 random(5);
  auto size_up_to = [&random](size_t max) {
    return std::uniform_int_distribution<size_t>(0, max)(random);
  };
  Buffer queue;
  std::string expected;
  for (int step = 0; step < 4000; ++step) {
    Buffer piece;
    std::string bytes = Pattern(1 + size_up_to(step % 3 == 0 ? 3 * Buffer::kSliceSize : 40));
    size_t drained = size_up_to(bytes.size() - 1);
    piece.Append(bytes);
    piece.Drain(drained);
    bytes.erase(0, drained);
    switch (size_up_to(3)) {
      case 0:
        queue.MoveFrom(piece);
        expected += bytes;
        break;
      case 1: {
        size_t n = size_up_to(bytes.size());
        queue.MoveFrom(piece, n);
        expected += bytes.substr(0, n);
        break;
      }
      case 2:
        queue.Append(bytes);
        expected += bytes;
        break;
      default: {
        size_t n = size_up_to(queue.size());
        queue.Drain(n);
        expected.erase(0, n);
        break;
      }
    }
    ASSERT_EQ(queue.size(), expected.size());
    ASSERT_LE(queue.capacity(), 2 * queue.size() + 2 * Buffer::kSliceSize) << "step " << step;
  }
  EXPECT_EQ(queue.ToString(), expected);
}

}  // namespace
}  // namespace deputy
