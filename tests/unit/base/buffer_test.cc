#include "base/buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

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

}  // namespace
}  // namespace deputy
