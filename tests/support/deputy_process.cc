#include "support/deputy_process.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <fstream>
#include <functional>
#include <set>
#include <utility>

#include <gtest/gtest.h>

#include "support/socket.h"
#include "support/subprocess.h"

namespace deputy::test {

namespace {

std::string BinaryOrDefault(std::string binary) { return binary.empty() ? DEPUTY_BINARY : binary; }

// FailOnSanitizerReport fails the running test when a deputy it started reported a sanitizer
// error on stderr: the tests' assertions may all hold while deputy raced or leaked, and a report
// that only reaches the exit status (ThreadSanitizer's 66) is otherwise never looked at.
void FailOnSanitizerReport(const std::string& stderr_text) {
  for (const char* marker : {"WARNING: ThreadSanitizer:", "ERROR: AddressSanitizer:",
                             "ERROR: LeakSanitizer:", "runtime error:"}) {
    if (stderr_text.find(marker) != std::string::npos) {
      ADD_FAILURE() << "deputy reported \"" << marker << "\"; its stderr:\n" << stderr_text;
      return;
    }
  }
}

// ReadLines calls `on_line` for each line read from the non-blocking `fd` until EOF. Once `stop`
// fires it takes what is left in the pipe without waiting, then returns.
void ReadLines(int fd, const StopEvent& stop, const std::function<void(std::string)>& on_line) {
  std::string pending;
  char buf[8192];
  bool stopping = false;
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n > 0) {
      pending.append(buf, static_cast<size_t>(n));
      size_t eol;
      while ((eol = pending.find('\n')) != std::string::npos) {
        on_line(pending.substr(0, eol));
        pending.erase(0, eol + 1);
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || (n < 0 && errno != EAGAIN) || stopping) break;
    // The reader lives as long as the process it reads from, which Stop ends; the stop event
    // always wakes this wait.
    WaitResult wait = WaitFd(fd, POLLIN, Deadline(Millis(1000)), stop.fd());
    if (wait == WaitResult::kStopped) stopping = true;
  }
  if (!pending.empty()) on_line(std::move(pending));
}

// ListenerNames is every listener the config declares, plus "admin" if it has an admin address.
std::set<std::string> ListenerNames(const nlohmann::json& config) {
  std::set<std::string> names;
  if (!config.is_object()) return names;
  auto listeners = config.find("listeners");
  if (listeners != config.end() && listeners->is_array()) {
    for (const nlohmann::json& listener : *listeners) {
      auto name = listener.find("name");
      if (listener.is_object() && name != listener.end() && name->is_string()) {
        names.insert(name->get<std::string>());
      }
    }
  }
  auto admin = config.find("admin");
  if (admin != config.end() && admin->is_object() && admin->contains("address")) {
    names.insert("admin");
  }
  return names;
}

// PortOf returns the port of "host:port" or "[v6]:port", 0 if there is none.
uint16_t PortOf(std::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return 0;
  std::string_view digits = address.substr(colon + 1);
  uint16_t port = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size()) return 0;
  return port;
}

std::optional<nlohmann::json> ParseObject(const std::string& line) {
  if (line.empty() || line.front() != '{') return std::nullopt;
  nlohmann::json value = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!value.is_object()) return std::nullopt;
  return value;
}

}  // namespace

DeputyProcess::DeputyProcess(nlohmann::json config, std::string binary)
    : DeputyProcess(std::move(config), DeputyOptions{}, std::move(binary)) {}

DeputyProcess::DeputyProcess(nlohmann::json config, DeputyOptions options, std::string binary)
    : config_(std::move(config)),
      options_(std::move(options)),
      binary_(BinaryOrDefault(std::move(binary))) {}

DeputyProcess::~DeputyProcess() {
  Stop();
  JoinReaders();
  FailOnSanitizerReport(stderr_);
}

bool DeputyProcess::Start(std::string* error, Millis timeout) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  if (started_) {
    *error = "deputy was already started";
    return false;
  }
  started_ = true;
  Deadline deadline(timeout);
  config_path_ = dir_.Write("deputy.json", config_.dump(2));
  std::vector<std::string> argv = launcher_;
  argv.insert(argv.end(), {binary_, "run", "-c", config_path_});
  argv.insert(argv.end(), options_.run_args.begin(), options_.run_args.end());
  std::optional<Child> child = Spawn(argv, error);
  if (!child) return false;
  pid_ = child->pid;
  stderr_reader_ = std::thread([this, pipe = std::move(child->stderr_pipe)] {
    ReadLines(pipe.fd(), readers_stop_,
              [this](std::string line) { OnStderrLine(std::move(line)); });
    std::lock_guard lock(mu_);
    stderr_closed_ = true;
    changed_.notify_all();
  });
  if (options_.drain_stdout) {
    stdout_reader_ = std::thread([this, pipe = std::move(child->stdout_pipe)] {
      ReadLines(pipe.fd(), readers_stop_,
                [this](std::string line) { OnStdoutLine(std::move(line)); });
    });
  } else {
    unread_stdout_ = std::move(child->stdout_pipe);
  }

  std::set<std::string> expected = ListenerNames(config_);
  std::unique_lock lock(mu_);
  bool ready = changed_.wait_until(lock, deadline.at(), [&] {
    if (stderr_closed_) return true;
    for (const std::string& name : expected) {
      if (!ports_.contains(name)) return false;
    }
    return true;
  });
  std::string missing;
  for (const std::string& name : expected) {
    if (!ports_.contains(name)) missing += (missing.empty() ? "" : ", ") + name;
  }
  if (missing.empty()) return true;
  *error = (ready ? "deputy exited" : "deputy timed out") +
           std::string(" before reporting listeners: ") + missing;
  return false;
}

void DeputyProcess::OnStderrLine(std::string line) {
  std::optional<nlohmann::json> event = ParseObject(line);
  std::lock_guard lock(mu_);
  stderr_ += line;
  stderr_ += '\n';
  if (event && event->value("event", "") == "listening") {
    std::string name = event->value("listener", "");
    uint16_t port = PortOf(event->value("address", ""));
    if (!name.empty() && port != 0) ports_[name] = port;
  }
  changed_.notify_all();
}

void DeputyProcess::OnStdoutLine(std::string line) {
  std::optional<nlohmann::json> entry = ParseObject(line);
  std::lock_guard lock(mu_);
  stdout_ += line;
  stdout_ += '\n';
  if (entry) access_log_.push_back(std::move(*entry));
  changed_.notify_all();
}

uint16_t DeputyProcess::Port(const std::string& listener) const {
  std::lock_guard lock(mu_);
  auto it = ports_.find(listener);
  return it == ports_.end() ? 0 : it->second;
}

std::string DeputyProcess::Stderr() const {
  std::lock_guard lock(mu_);
  return stderr_;
}

std::string DeputyProcess::Stdout() const {
  std::lock_guard lock(mu_);
  return stdout_;
}

std::vector<nlohmann::json> DeputyProcess::AccessLog() const {
  std::lock_guard lock(mu_);
  return access_log_;
}

bool DeputyProcess::WaitForAccessLogLines(size_t n, Millis timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return access_log_.size() >= n; });
}

bool DeputyProcess::WaitForStderr(std::string_view text, Millis timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return stderr_.find(text) != std::string::npos; });
}

long DeputyProcess::RssKiB() const {
  if (pid_ <= 0) return -1;
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

int DeputyProcess::Stop(Millis timeout) {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    std::optional<int> status = test::WaitForExit(pid_, timeout);
    if (!status) {
      kill(pid_, SIGKILL);
      status = test::WaitForExit(pid_, timeout);
    }
    exit_status_ = status.value_or(-1);
    pid_ = -1;
  }
  JoinReaders();
  return exit_status_;
}

std::optional<int> DeputyProcess::WaitForExit(Millis timeout) {
  if (pid_ <= 0) return exit_status_;
  std::optional<int> status = test::WaitForExit(pid_, timeout);
  if (status) {
    exit_status_ = *status;
    pid_ = -1;
    // The child is gone: the readers take what is left in the pipes, so every line it wrote is
    // visible when this returns.
    JoinReaders();
  }
  return status;
}

void DeputyProcess::JoinReaders() {
  readers_stop_.Fire();
  if (stderr_reader_.joinable()) stderr_reader_.join();
  if (stdout_reader_.joinable()) stdout_reader_.join();
}

RunResult DeputyProcess::RunCommand(const std::vector<std::string>& args, Millis timeout,
                                    std::string binary) {
  std::vector<std::string> argv = {BinaryOrDefault(std::move(binary))};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult result = RunToCompletion(argv, timeout);
  FailOnSanitizerReport(result.stderr_text);
  return result;
}

}  // namespace deputy::test
