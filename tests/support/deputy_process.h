#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "support/socket.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace deputy::test {

// What a DeputyProcess runs besides its config.
struct DeputyOptions {
  // Arguments after `run -c <config>`, e.g. {"--log-queue-lines", "64"}.
  std::vector<std::string> run_args;
  // false leaves deputy's stdout a pipe nobody reads, a sink that never keeps up; Stdout() and
  // AccessLog() then stay empty.
  bool drain_stdout = true;
};

// DeputyProcess runs the real deputy binary (`run -c <config>`) with a configuration written to
// a temporary directory. deputy reports each bound listener on stderr as
//   {"event":"listening","listener":"<name>","address":"127.0.0.1:<port>"}
// (the admin listener is named "admin"), which is how tests using port 0 learn the ports. Its
// stdout is the access log, one JSON object per line. The destructor stops the process.
class DeputyProcess {
 public:
  // `binary` defaults to DEPUTY_BINARY, the deputy built alongside the tests.
  explicit DeputyProcess(nlohmann::json config, std::string binary = "");
  DeputyProcess(nlohmann::json config, DeputyOptions options, std::string binary = "");
  ~DeputyProcess();
  DeputyProcess(const DeputyProcess&) = delete;
  DeputyProcess& operator=(const DeputyProcess&) = delete;

  // Start launches deputy and waits until every listener named in the config, plus "admin" if
  // the config has an admin address, has reported its address. On failure (including deputy
  // exiting early) returns false and explains in `*error`. A process is started at most once.
  bool Start(std::string* error = nullptr, Millis timeout = Millis(10000));
  // SetLauncher puts `launcher` (an absolute path, then its arguments) before deputy's command
  // line, e.g. {"/usr/bin/prlimit", "--nofile=64"}. The launcher must exec deputy in its own
  // process, so that pid() is deputy's. Call before Start.
  void SetLauncher(std::vector<std::string> launcher) { launcher_ = std::move(launcher); }

  // Port is the port `listener` reported, 0 if it did not.
  uint16_t Port(const std::string& listener) const;
  pid_t pid() const { return pid_; }
  const std::string& config_path() const { return config_path_; }

  // Everything deputy wrote to stderr / stdout so far.
  std::string Stderr() const;
  std::string Stdout() const;
  // AccessLog is the stdout lines that parsed as JSON objects, in order.
  std::vector<nlohmann::json> AccessLog() const;
  bool WaitForAccessLogLines(size_t n, Millis timeout = kDefaultTimeout) const;
  // WaitForStderr waits until stderr contains `text`.
  bool WaitForStderr(std::string_view text, Millis timeout = kDefaultTimeout) const;

  // RssKiB is deputy's resident set size from /proc, -1 if unavailable.
  long RssKiB() const;

  // Stop sends SIGTERM (to deputy's pid only), waits up to `timeout`, then SIGKILLs. Returns the
  // exit status (exit code, or 128 + signal), -1 if it never ran. Idempotent.
  int Stop(Millis timeout = Millis(10000));
  // WaitForExit waits, without signalling, for deputy to exit by itself (e.g. after draining);
  // returns its exit status, or nothing on timeout. Stop() afterwards only collects output.
  std::optional<int> WaitForExit(Millis timeout);

  // RunCommand runs the deputy binary with `args` (e.g. {"check", "-c", file}) to completion.
  static RunResult RunCommand(const std::vector<std::string>& args,
                              Millis timeout = kDefaultTimeout, std::string binary = "");

 private:
  void OnStderrLine(std::string line);
  void OnStdoutLine(std::string line);
  void JoinReaders();

  nlohmann::json config_;
  DeputyOptions options_;
  std::string binary_;
  std::vector<std::string> launcher_;
  TempDir dir_;
  std::string config_path_;
  bool started_ = false;
  pid_t pid_ = -1;
  int exit_status_ = -1;

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::string stderr_;
  std::string stdout_;
  std::vector<nlohmann::json> access_log_;
  std::map<std::string, uint16_t> ports_;
  bool stderr_closed_ = false;

  StopEvent readers_stop_;
  std::thread stderr_reader_;
  std::thread stdout_reader_;
  Socket unread_stdout_;  // the pipe's read end, held open and unread (drain_stdout false)
};

}  // namespace deputy::test
