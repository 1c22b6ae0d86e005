#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "support/process_log.h"
#include "support/socket.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace deputy::test {

// DnsmasqServer runs Debian's dnsmasq as a name server on UDP port 53 of a 127.53.x.y address
// (port 53 needs root), answering only from a hosts file the test controls, with TTL 0 and no
// upstream servers but those `options` name (e.g. "--server=/slow.test/127.0.0.9"). SetHosts
// replaces the file and waits until dnsmasq has re-read it (SIGHUP), so the next query sees the new
// answer: DNS changing under deputy, as in a rebinding attack.
class DnsmasqServer {
 public:
  static constexpr const char* kBinary = "/usr/sbin/dnsmasq";

  DnsmasqServer(const TempDir& dir, const std::string& hosts,
                const std::vector<std::string>& options = {});
  ~DnsmasqServer();
  DnsmasqServer(const DnsmasqServer&) = delete;
  DnsmasqServer& operator=(const DnsmasqServer&) = delete;

  // valid() is false when dnsmasq did not come up; error() says why.
  bool valid() const { return pid_ > 0; }
  const std::string& error() const { return error_; }
  // The IPv4 address it listens on, for a resolv.conf "nameserver" line.
  const std::string& address() const { return address_; }

  // SetHosts replaces the hosts file ("127.0.0.1 name" lines) and waits until it is in force.
  bool SetHosts(const std::string& hosts, Millis timeout = kDefaultTimeout);
  // Queries counts the queries of `type` ("A", "AAAA", "SRV") dnsmasq has answered for `name`
  // so far.
  size_t Queries(const std::string& name, const std::string& type = "A");

 private:
  std::string hosts_file_;
  std::string address_;
  std::string error_;
  pid_t pid_ = -1;
  ProcessLog log_;      // dnsmasq's stderr
  Socket output_pipe_;  // kept open so a write to stdout cannot kill dnsmasq with SIGPIPE
};

}  // namespace deputy::test
