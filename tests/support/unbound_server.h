#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "support/process_log.h"
#include "support/temp_dir.h"

namespace deputy::test {

// UnboundServer runs Debian's unbound as an authoritative-style name server on UDP and TCP port
// 53 of a 127.54.x.y address (port 53 needs root), answering only local zones the test writes:
// unlike dnsmasq it sends the zone's SOA with NXDOMAIN and NODATA, as RFC 2308 negative caching
// needs. `zones` are unbound.conf lines (local-zone, local-data); nothing is forwarded or
// recursed.
class UnboundServer {
 public:
  static constexpr const char* kBinary = "/usr/sbin/unbound";

  UnboundServer(const TempDir& dir, const std::vector<std::string>& zones);
  ~UnboundServer();
  UnboundServer(const UnboundServer&) = delete;
  UnboundServer& operator=(const UnboundServer&) = delete;

  bool valid() const { return pid_ > 0; }
  const std::string& error() const { return error_; }
  const std::string& address() const { return address_; }

  // Queries counts the queries of `type` ("A", "AAAA", "SRV") for `name` unbound has logged.
  size_t Queries(const std::string& name, const std::string& type);

 private:
  std::string address_;
  std::string error_;
  pid_t pid_ = -1;
  ProcessLog log_;
  Socket output_pipe_;  // kept open so a write to stdout cannot kill unbound with SIGPIPE
};

}  // namespace deputy::test
