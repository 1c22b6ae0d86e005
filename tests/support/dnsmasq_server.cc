#include "support/dnsmasq_server.h"

#include <signal.h>
#include <unistd.h>

#include <optional>
#include <vector>

#include "support/subprocess.h"

namespace deputy::test {

DnsmasqServer::DnsmasqServer(const TempDir& dir, const std::string& hosts,
                             const std::vector<std::string>& options)
    : hosts_file_(dir.Write("dnsmasq.hosts", hosts)) {
  if (access(kBinary, X_OK) != 0) {
    error_ = std::string(kBinary) + " is missing (Debian package dnsmasq-base)";
    return;
  }
  // A distinct 127/8 address per process, so parallel test processes do not collide; an
  // address taken by another test is seen as dnsmasq exiting at once.
  for (unsigned attempt = 0; attempt < 8 && pid_ < 0; ++attempt) {
    unsigned n = (static_cast<unsigned>(getpid()) * 7 + attempt) % (250 * 250);
    std::string address =
        "127.53." + std::to_string(n / 250 + 1) + "." + std::to_string(n % 250 + 1);
    std::vector<std::string> argv = {kBinary,
                                     "--keep-in-foreground",
                                     "--conf-file=/dev/null",
                                     "--no-resolv",
                                     "--no-hosts",
                                     "--addn-hosts=" + hosts_file_,
                                     "--listen-address=" + address,
                                     "--bind-interfaces",
                                     "--port=53",
                                     "--local-ttl=0",
                                     "--log-facility=-",
                                     "--log-queries",
                                     "--user=root",
                                     "--pid-file="};
    argv.insert(argv.end(), options.begin(), options.end());
    std::optional<Child> child = Spawn(argv, &error_);
    if (!child) return;
    pid_ = child->pid;
    log_.Reset(std::move(child->stderr_pipe));
    output_pipe_ = std::move(child->stdout_pipe);
    address_ = address;
    const bool read_hosts = log_.WaitForMore("read " + hosts_file_, 0, kDefaultTimeout);
    const bool exited = WaitForExit(pid_, Millis(0)).has_value();  // reaps it if it has
    if (read_hosts && !exited) break;
    error_ = "dnsmasq did not start on " + address + ":53: " + log_.Text();
    if (!exited) {
      kill(pid_, SIGKILL);
      WaitForExit(pid_, kDefaultTimeout);
    }
    pid_ = -1;
  }
  if (pid_ > 0) error_.clear();
}

DnsmasqServer::~DnsmasqServer() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  if (!WaitForExit(pid_, kDefaultTimeout)) {
    kill(pid_, SIGKILL);
    WaitForExit(pid_, kDefaultTimeout);
  }
}

bool DnsmasqServer::SetHosts(const std::string& hosts, Millis timeout) {
  const size_t reads = log_.Count("read " + hosts_file_);
  WriteFileOrDie(hosts_file_, hosts);
  if (kill(pid_, SIGHUP) != 0) return false;
  return log_.WaitForMore("read " + hosts_file_, reads, timeout);
}

size_t DnsmasqServer::Queries(const std::string& name, const std::string& type) {
  return log_.Count("query[" + type + "] " + name + " ");
}

}  // namespace deputy::test
