#include "support/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

namespace deputy::test {

namespace {

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// RunChild is the child's side of Spawn; it may only make async-signal-safe calls, because the
// parent has other threads whose locks fork copied mid-use.
[[noreturn]] void RunChild(char* const* argv, pid_t parent, int in, int out, int err) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
  if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0) {
    _exit(127);
  }
  // Fixtures ignore SIGPIPE and an ignored signal survives exec; deputy must get the default.
  struct sigaction action = {};
  action.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &action, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  close_range(3, ~0U, 0);
  execv(argv[0], argv);
  static constexpr char kMessage[] = "exec failed\n";
  ssize_t ignored = write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
  (void)ignored;
  _exit(127);
}

}  // namespace

std::optional<Child> Spawn(const std::vector<std::string>& argv, std::string* error) {
  IgnoreSigpipe();
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  int out[2];
  int err[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    *error = std::string("pipe2: ") + std::strerror(errno);
    return std::nullopt;
  }
  Socket out_read(out[0]);
  Socket out_write(out[1]);
  if (pipe2(err, O_CLOEXEC) != 0) {
    *error = std::string("pipe2: ") + std::strerror(errno);
    return std::nullopt;
  }
  Socket err_read(err[0]);
  Socket err_write(err[1]);
  Socket dev_null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!dev_null.valid()) {
    *error = std::string("/dev/null: ") + std::strerror(errno);
    return std::nullopt;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return std::nullopt;
  }
  if (pid == 0) RunChild(args.data(), parent, dev_null.fd(), out_write.fd(), err_write.fd());
  SetNonBlocking(out_read.fd(), true);
  SetNonBlocking(err_read.fd(), true);
  Child child;
  child.pid = pid;
  child.stdout_pipe = std::move(out_read);
  child.stderr_pipe = std::move(err_read);
  return child;
}

std::optional<int> WaitForExit(pid_t pid, Millis timeout) {
  Deadline deadline(timeout);
  Socket pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  for (;;) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return DecodeWaitStatus(status);
    if (done < 0 && errno != EINTR) return std::nullopt;  // not our child (or already reaped)
    if (deadline.expired()) return std::nullopt;
    if (pidfd.valid()) {
      // Readable once the process has exited.
      WaitFd(pidfd.fd(), POLLIN, deadline);
    } else {
      // Kernels before 5.3 have no pidfd; poll the status instead.
      std::this_thread::sleep_for(Millis(10));
    }
  }
}

RunResult RunToCompletion(const std::vector<std::string>& argv, Millis timeout) {
  RunResult result;
  std::string error;
  std::optional<Child> child = Spawn(argv, &error);
  if (!child) {
    result.stderr_text = error;
    return result;
  }
  Deadline deadline(timeout);
  pollfd fds[2] = {{child->stdout_pipe.fd(), POLLIN, 0}, {child->stderr_pipe.fd(), POLLIN, 0}};
  std::string* sinks[2] = {&result.stdout_text, &result.stderr_text};
  int open_pipes = 2;
  while (open_pipes > 0 && !deadline.expired()) {
    if (poll(fds, 2, deadline.PollTimeoutMs()) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[8192];
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        fds[i].fd = -1;  // poll ignores negative fds
        --open_pipes;
      }
    }
  }
  std::optional<int> status = test::WaitForExit(child->pid, deadline.Remaining());
  if (!status) {
    result.timed_out = true;
    kill(child->pid, SIGKILL);
    status = test::WaitForExit(child->pid, kDefaultTimeout);
  }
  result.exit_code = status.value_or(-1);
  return result;
}

}  // namespace deputy::test
