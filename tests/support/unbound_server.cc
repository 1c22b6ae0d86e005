#include "support/unbound_server.h"

#include <signal.h>
#include <unistd.h>

#include <optional>

#include "support/subprocess.h"

namespace deputy::test {

UnboundServer::UnboundServer(const TempDir& dir, const std::vector<std::string>& zones) {
  if (access(kBinary, X_OK) != 0) {
    error_ = std::string(kBinary) + " is missing (Debian package unbound)";
    return;
  }
  // A distinct 127/8 address per process, so parallel test processes do not collide; an
  // address taken by another test is seen as unbound exiting at once.
  for (unsigned attempt = 0; attempt < 8 && pid_ < 0; ++attempt) {
    const unsigned n = (static_cast<unsigned>(getpid()) * 7 + attempt) % (250 * 250);
    const std::string address =
        "127.54." + std::to_string(n / 250 + 1) + "." + std::to_string(n % 250 + 1);
    std::string config =
        "server:\n"
        "  interface: " +
        address +
        "\n"
        "  port: 53\n"
        "  do-daemonize: no\n"
        "  use-syslog: no\n"
        "  logfile: \"\"\n"
        "  verbosity: 1\n"
        "  log-queries: yes\n"
        "  chroot: \"\"\n"
        "  username: \"\"\n"
        "  directory: \"" +
        dir.path() +
        "\"\n"
        "  pidfile: \"\"\n"
        "  do-ip6: no\n"
        "  access-control: 127.0.0.0/8 allow\n"
        "  module-config: \"iterator\"\n";
    for (const std::string& line : zones) config += "  " + line + "\n";
    config += "remote-control:\n  control-enable: no\n";
    const std::string path = dir.Write("unbound.conf", config);
    std::optional<Child> child = Spawn({kBinary, "-d", "-c", path}, &error_);
    if (!child) return;
    pid_ = child->pid;
    log_.Reset(std::move(child->stderr_pipe));
    output_pipe_ = std::move(child->stdout_pipe);
    address_ = address;
    const bool serving = log_.WaitForMore("start of service", 0, kDefaultTimeout);
    const bool exited = WaitForExit(pid_, Millis(0)).has_value();  // reaps it if it has
    if (serving && !exited) break;
    error_ = "unbound did not start on " + address + ":53: " + log_.Text();
    if (!exited) {
      kill(pid_, SIGKILL);
      WaitForExit(pid_, kDefaultTimeout);
    }
    pid_ = -1;
  }
  if (pid_ > 0) error_.clear();
}

UnboundServer::~UnboundServer() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  if (!WaitForExit(pid_, kDefaultTimeout)) {
    kill(pid_, SIGKILL);
    WaitForExit(pid_, kDefaultTimeout);
  }
}

size_t UnboundServer::Queries(const std::string& name, const std::string& type) {
  return log_.Count(" " + name + ". " + type + " IN");
}

}  // namespace deputy::test
