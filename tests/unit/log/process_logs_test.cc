#include "log/process_logs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <regex>
#include <string>
#include <thread>

#include "log/warning_limiter.h"
#include "support/socket.h"
#include "support/wait.h"

namespace deputy {
namespace {

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

std::string ReadAvailable(int fd) {
  test::SetNonBlocking(fd, true);
  std::string text;
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
  return text;
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(ProcessLogsTest, AccessAndDiagnosticLinesGoThroughTheirOwnSinks) {
  Pipe access = MakePipe();
  Pipe diagnostic = MakePipe();
  const std::shared_ptr<spdlog::logger> before = spdlog::default_logger();
  {
    ProcessLogs logs(LineQueueLimits{}, {access.write.fd(), diagnostic.write.fd()});
    EXPECT_NE(spdlog::default_logger(), before);
    WriteAccessLogLine("{\"result\":\"ok\"}\n");
    spdlog::warn("hello {}", 42);
  }
  // Destruction flushed both and put the previous logger back.
  EXPECT_EQ(spdlog::default_logger(), before);
  EXPECT_EQ(ReadAvailable(access.read.fd()), "{\"result\":\"ok\"}\n");
  const std::string text = ReadAvailable(diagnostic.read.fd());
  EXPECT_TRUE(std::regex_match(
      text, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warning hello 42\n)")))
      << text;
}

TEST(ProcessLogsTest, DroppedLinesAreCountedPerLog) {
  Pipe access = MakePipe();
  Pipe diagnostic = MakePipe();
  EXPECT_EQ(CountDroppedLogLines().access, 0u);
  std::string access_text;
  std::string diagnostic_text;
  {
    // Nothing reads either pipe while the lines are written: 64 KiB each, then the queues.
    ProcessLogs logs({.max_lines = 4, .max_bytes = 1 << 20},
                     {access.write.fd(), diagnostic.write.fd()});
    const std::string line(1000, 'a');
    for (int i = 0; i < 200; ++i) {
      WriteAccessLogLine(line + "\n");
      spdlog::warn("{}", line);
    }
    const DroppedLogLines dropped = CountDroppedLogLines();
    // The pipe holds about 64 of them, the thread one write and the queue 4.
    EXPECT_GE(dropped.access, 100u);
    EXPECT_GE(dropped.diagnostic, 100u);
    EXPECT_EQ(logs.access().dropped(), dropped.access);
    // The destructor flushes; the sinks must take what is queued.
    std::thread drain([&] {
      test::Deadline deadline(test::kDefaultTimeout);
      // A line counts as written once the pipe has it, so read once more after the last count.
      bool more = true;
      while (more) {
        more = !deadline.expired() && logs.access().written() + logs.access().dropped() < 200;
        test::WaitFd(access.read.fd(), POLLIN, test::Deadline(test::Millis(more ? 10 : 0)));
        access_text += ReadAvailable(access.read.fd());
      }
      more = true;
      while (more) {
        more =
            !deadline.expired() && logs.diagnostic().written() + logs.diagnostic().dropped() < 200;
        test::WaitFd(diagnostic.read.fd(), POLLIN, test::Deadline(test::Millis(more ? 10 : 0)));
        diagnostic_text += ReadAvailable(diagnostic.read.fd());
      }
    });
    drain.join();
    EXPECT_EQ(Count(access_text, "\n"), 200 - logs.access().dropped());
  }
  EXPECT_EQ(CountDroppedLogLines().access, 0u);
  EXPECT_EQ(CountDroppedLogLines().diagnostic, 0u);
}

TEST(ProcessLogsTest, RepeatedWarningsAreLimitedAndTheRestCountedByExit) {
  Pipe diagnostic = MakePipe();
  Pipe access = MakePipe();
  // Limiters live as long as the process: a kind of its own for each run of this test.
  static int runs = 0;
  const std::string kind = "test failure " + std::to_string(++runs);
  {
    ProcessLogs logs(LineQueueLimits{}, {access.write.fd(), diagnostic.write.fd()});
    for (int i = 0; i < 100; ++i) WarnLimited(kind, "attempt {} failed", i);
  }
  const std::string text = ReadAvailable(diagnostic.read.fd());
  const size_t logged = Count(text, " failed\n");
  size_t suppressed = 0;
  const std::regex summary(kind + R"(: suppressed (\d+) similar warnings\n)");
  for (std::sregex_iterator it(text.begin(), text.end(), summary), end; it != end; ++it) {
    suppressed += std::stoul((*it)[1]);
  }
  // 100 warnings take far less than the 1 s window; should one straddle it, two bursts pass.
  EXPECT_GE(logged, kWarningBurst);
  EXPECT_LE(logged, 2 * kWarningBurst);
  EXPECT_EQ(logged + suppressed, 100u) << text;
  EXPECT_GE(Count(text, kind + ": suppressing further warnings"), 1u) << text;
}

}  // namespace
}  // namespace deputy
