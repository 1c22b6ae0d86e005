#include "log/process_logs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>

#include "log/warning_limiter.h"
#include "support/socket.h"
#include "support/temp_dir.h"
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

TEST(ProcessLogsTest, JsonFormatWritesEachDiagnosticLineAsOneObjectEvenForBytesThatAreNotUtf8) {
  Pipe access = MakePipe();
  Pipe diagnostic = MakePipe();
  {
    ProcessLogs logs(LineQueueLimits{}, {access.write.fd(), diagnostic.write.fd()});
    logs.SetDiagnostics(LogLevel::kInfo, LogFormat::kJson);
    spdlog::warn("a \"quoted\" {}", std::string("\xff\xfe"));
    spdlog::debug("below the level");
    logs.SetDiagnostics(std::nullopt, LogFormat::kText);
    spdlog::info("text again");
  }
  const std::string text = ReadAvailable(diagnostic.read.fd());
  const size_t end = text.find('\n');
  ASSERT_NE(end, std::string::npos) << text;
  const nlohmann::json line = nlohmann::json::parse(text.substr(0, end), nullptr, false);
  ASSERT_TRUE(line.is_object()) << text;
  EXPECT_EQ(line["level"], "warn");
  EXPECT_EQ(line["message"], "a \"quoted\" \xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_TRUE(std::regex_match(line["time"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << line;
  EXPECT_EQ(text.find("below the level"), std::string::npos);
  EXPECT_TRUE(std::regex_match(text.substr(end + 1), std::regex(R"(\S+Z info text again\n)")))
      << text;
}

TEST(ProcessLogsTest, TheAccessLogSwitchesToAFileAndBackWithoutLosingALine) {
  Pipe access = MakePipe();
  Pipe diagnostic = MakePipe();
  test::TempDir dir;
  const std::string path = dir.path() + "/access.log";
  {
    ProcessLogs logs(LineQueueLimits{}, {access.write.fd(), diagnostic.write.fd()});
    WriteAccessLogLine("to the sink\n");
    // Taken by the sink before the switch (a line still queued at a switch goes where the log
    // goes next, which this test does not pin down).
    ASSERT_EQ(test::WaitFd(access.read.fd(), POLLIN, test::Deadline(test::kDefaultTimeout)),
              test::WaitResult::kReady);
    EXPECT_EQ(ReadAvailable(access.read.fd()), "to the sink\n");
    Result<UniqueFd> file = ProcessLogs::OpenAccessLogFile(path);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    logs.UseAccessLog(std::move(file).value());
    for (int i = 0; i < 1000; ++i) WriteAccessLogLine("to the file\n");
    // Rotated: the file moves away, and the same path is opened again.
    ASSERT_TRUE(test::WaitForFileLines(path, 1000));
    ASSERT_EQ(std::rename(path.c_str(), (path + ".1").c_str()), 0);
    Result<UniqueFd> reopened = ProcessLogs::OpenAccessLogFile(path);
    ASSERT_TRUE(reopened.ok());
    logs.UseAccessLog(std::move(reopened).value());
    WriteAccessLogLine("to the new file\n");
    ASSERT_TRUE(test::WaitForFileLines(path, 1));
    logs.UseAccessLog(UniqueFd());
    WriteAccessLogLine("to the sink again\n");
  }
  EXPECT_EQ(ReadAvailable(access.read.fd()), "to the sink again\n");
  EXPECT_EQ(Count(test::ReadFileText(path + ".1"), "to the file\n"), 1000u);
  EXPECT_EQ(test::ReadFileText(path), "to the new file\n");
  EXPECT_FALSE(ProcessLogs::OpenAccessLogFile(dir.path() + "/missing/access.log").ok());
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
