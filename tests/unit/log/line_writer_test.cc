#include "log/line_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/socket.h"
#include "support/wait.h"

namespace deputy {
namespace {

using test::Deadline;
using test::Millis;
using test::Socket;

struct Pipe {
  Socket read;
  Socket write;
};

Pipe MakePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) ADD_FAILURE() << "pipe2: " << errno;
  return {Socket(fds[0]), Socket(fds[1])};
}

// FillPipe writes filler bytes until the pipe holds no more, so the next write blocks.
size_t FillPipe(int fd) {
  test::SetNonBlocking(fd, true);
  const std::string filler(4096, '.');
  size_t total = 0;
  for (;;) {
    ssize_t n = write(fd, filler.data(), filler.size());
    if (n <= 0) break;
    total += static_cast<size_t>(n);
  }
  // A pipe takes less than a page once almost full.
  while (write(fd, ".", 1) == 1) ++total;
  test::SetNonBlocking(fd, false);
  return total;
}

// ReadAvailable takes what the pipe holds right now, without waiting.
std::string ReadAvailable(int fd) {
  test::SetNonBlocking(fd, true);
  std::string text;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
  return text;
}

// PipeReader reads on its own thread until the write end closes.
class PipeReader {
 public:
  explicit PipeReader(int fd) : thread_([this, fd] { Read(fd); }) {}
  ~PipeReader() {
    if (thread_.joinable()) thread_.join();
  }
  // Text waits for end of stream (the caller closed the write end) and returns all of it.
  std::string Text() {
    thread_.join();
    return text_;
  }

 private:
  void Read(int fd) {
    char buf[8192];
    Deadline deadline(test::kDefaultTimeout);
    while (!deadline.expired()) {
      if (test::WaitFd(fd, POLLIN, deadline) != test::WaitResult::kReady) break;
      ssize_t n = read(fd, buf, sizeof(buf));
      if (n > 0) {
        text_.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        break;
      }
    }
  }

  std::string text_;
  std::thread thread_;
};

std::string Line(int i, size_t payload = 40) {
  return "line " + std::to_string(i) + " " + std::string(payload, 'x') + "\n";
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line + "\n");
  return lines;
}

// ExpectInOrderSubset checks that `text` (after `skip` filler bytes) is whole lines of ours,
// each index greater than the last, and returns how many.
size_t ExpectInOrderSubset(const std::string& text, size_t skip, size_t payload) {
  int last = -1;
  size_t count = 0;
  for (const std::string& line : SplitLines(text.substr(skip))) {
    int index = -1;
    EXPECT_EQ(std::sscanf(line.c_str(), "line %d ", &index), 1) << line;
    EXPECT_GT(index, last);
    EXPECT_EQ(line, Line(index, payload));
    last = index;
    ++count;
  }
  return count;
}

TEST(LineWriterTest, CloseReturnsOnlyOnceEveryQueuedLineIsWritten) {
  Pipe pipe = MakePipe();
  std::string expected;
  {
    LineWriter writer(pipe.write.fd(), {.max_lines = 1000, .max_bytes = 1 << 20});
    for (int i = 0; i < 200; ++i) {
      writer.Write(Line(i));
      expected += Line(i);
    }
    ASSERT_TRUE(writer.Close(Millis(10000)));
    EXPECT_EQ(writer.written(), 200u);
    EXPECT_EQ(writer.dropped(), 0u);
    // Nothing waits here: the lines must be in the pipe already.
    EXPECT_EQ(ReadAvailable(pipe.read.fd()), expected);
  }
}

// A sink that takes nothing: the thread blocks in its first write, the queue fills to its
// bound, and every further Write returns at once, counting a drop.
TEST(LineWriterTest, LinesBeyondTheLineBoundAreDroppedAndCounted) {
  Pipe pipe = MakePipe();
  const size_t filler = FillPipe(pipe.write.fd());
  LineWriter writer(pipe.write.fd(), {.max_lines = 10, .max_bytes = 1 << 20});
  for (int i = 0; i < 100; ++i) writer.Write(Line(i));
  // At most 10 queued plus the 10 or fewer the thread took before blocking.
  EXPECT_GE(writer.dropped(), 80u);
  EXPECT_LE(writer.dropped(), 90u);

  PipeReader reader(pipe.read.fd());
  ASSERT_TRUE(writer.Close(Millis(10000)));
  pipe.write.Close();
  EXPECT_EQ(writer.written() + writer.dropped(), 100u);
  EXPECT_EQ(ExpectInOrderSubset(reader.Text(), filler, 40), writer.written());
}

TEST(LineWriterTest, LinesBeyondTheByteBoundAreDroppedAndCounted) {
  Pipe pipe = MakePipe();
  const size_t filler = FillPipe(pipe.write.fd());
  const size_t line_size = Line(0, 100).size();
  LineWriter writer(pipe.write.fd(), {.max_lines = 1000, .max_bytes = 10 * line_size + 5});
  for (int i = 0; i < 100; ++i) writer.Write(Line(i, 100));
  EXPECT_GE(writer.dropped(), 80u);
  EXPECT_LE(writer.dropped(), 90u);

  PipeReader reader(pipe.read.fd());
  ASSERT_TRUE(writer.Close(Millis(10000)));
  pipe.write.Close();
  EXPECT_EQ(writer.written() + writer.dropped(), 100u);
  EXPECT_EQ(ExpectInOrderSubset(reader.Text(), filler, 100), writer.written());
}

TEST(LineWriterTest, LineLargerThanTheByteBoundIsDroppedEvenWhenTheQueueIsEmpty) {
  Pipe pipe = MakePipe();
  LineWriter writer(pipe.write.fd(), {.max_lines = 10, .max_bytes = 100});
  writer.Write(std::string(101, 'x'));
  EXPECT_EQ(writer.dropped(), 1u);
  writer.Write(Line(1));
  ASSERT_TRUE(writer.Close(Millis(10000)));
  EXPECT_EQ(writer.written(), 1u);
  EXPECT_EQ(ReadAvailable(pipe.read.fd()), Line(1));
  // Closed: nothing more is taken.
  writer.Write(Line(2));
  EXPECT_EQ(writer.dropped(), 2u);
}

TEST(LineWriterTest, CloseGivesUpAtItsDeadlineWhenTheSinkTakesNothing) {
  Pipe pipe = MakePipe();
  const size_t filler = FillPipe(pipe.write.fd());
  std::string expected;
  {
    LineWriter writer(pipe.write.fd(), {.max_lines = 100, .max_bytes = 1 << 20});
    for (int i = 0; i < 5; ++i) {
      writer.Write(Line(i));
      expected += Line(i);
    }
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(writer.Close(Millis(300)));
    const auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_GE(waited, Millis(300));
    EXPECT_LT(waited, Millis(5000));
    // Destroying it must not wait for the sink either.
  }
  // The thread left behind finishes once the sink takes its lines; read them all before the
  // pipe closes under it.
  std::string text;
  Deadline deadline(test::kDefaultTimeout);
  while (text.size() < filler + expected.size() && !deadline.expired()) {
    ASSERT_EQ(test::WaitFd(pipe.read.fd(), POLLIN, deadline), test::WaitResult::kReady);
    text += ReadAvailable(pipe.read.fd());
  }
  EXPECT_EQ(text.substr(filler), expected);
}

// stdout and stderr are often one pipe (`2>&1`): each write carries whole lines of at most
// PIPE_BUF bytes, which a pipe never interleaves with another writer's.
TEST(LineWriterTest, LinesOfTwoWritersSharingAPipeNeverInterleave) {
  Pipe pipe = MakePipe();
  PipeReader reader(pipe.read.fd());
  constexpr int kLines = 3000;
  {
    LineWriter first(pipe.write.fd(), {.max_lines = 100000, .max_bytes = 64 << 20});
    LineWriter second(pipe.write.fd(), {.max_lines = 100000, .max_bytes = 64 << 20});
    auto feed = [](LineWriter& writer, char tag) {
      for (int i = 0; i < kLines; ++i) {
        writer.Write(std::string(1, tag) + std::string(1 + (i * 37) % 700, tag) + "\n");
      }
    };
    std::thread a(feed, std::ref(first), 'a');
    std::thread b(feed, std::ref(second), 'b');
    a.join();
    b.join();
    EXPECT_TRUE(first.Close(Millis(10000)));
    EXPECT_TRUE(second.Close(Millis(10000)));
    EXPECT_EQ(first.dropped() + second.dropped(), 0u);
  }
  pipe.write.Close();
  size_t lines = 0;
  for (const std::string& line : SplitLines(reader.Text())) {
    ++lines;
    EXPECT_EQ(line.find_first_not_of(line[0]), line.size() - 1) << line;
  }
  EXPECT_EQ(lines, 2u * kLines);
}

}  // namespace
}  // namespace deputy
