#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "net/address.h"
#include "net/dns_channel.h"

namespace deputy {

// DnsQuery is one pending lookup; destroying it guarantees its callback never runs.
class DnsQuery {
 public:
  virtual ~DnsQuery() = default;
};

// DnsResolver turns a host name into addresses without blocking the loop: IP literals and
// configured static hosts are answered from memory, everything else by c-ares on the loop
// (DnsChannel: /etc/hosts, then the name servers of /etc/resolv.conf or `servers`), each name
// as an absolute one, under a deadline. A lookup waits on nothing but its own name server, so
// names whose server never answers hold no thread and delay no other lookup.
class DnsResolver {
 public:
  using Callback = std::function<void(Result<std::vector<IpEndpoint>>)>;
  static constexpr uint32_t kDefaultAttempts = 2;

  // `servers` empty: those of /etc/resolv.conf. `attempts` is per name server.
  DnsResolver(EventLoop& loop, std::map<std::string, std::vector<std::string>> static_hosts,
              uint32_t timeout_ms, std::vector<IpEndpoint> servers = {},
              uint32_t attempts = kDefaultAttempts);
  ~DnsResolver();

  // Resolve looks up `host` (lower-case) and fills in `port`. The callback always runs from the
  // loop, never inside Resolve itself.
  std::unique_ptr<DnsQuery> Resolve(const std::string& host, uint16_t port, Callback done);

  // HasStaticHost reports whether `host` (lower-case) is one of the configured static hosts.
  bool HasStaticHost(const std::string& host) const { return static_hosts_.contains(host); }

  // Reconfigure replaces the static hosts and the deadline for lookups that start from now on
  // (a reload); lookups under way keep theirs. The name servers stay. Called on the loop's
  // thread.
  void Reconfigure(std::map<std::string, std::vector<std::string>> static_hosts,
                   uint32_t timeout_ms);

 private:
  EventLoop& loop_;
  std::map<std::string, std::vector<std::string>> static_hosts_;
  uint32_t timeout_ms_;
  // Null when c-ares could not start; every lookup that needs it then fails with `broken_`.
  std::unique_ptr<DnsChannel> channel_;
  Status broken_;
};

}  // namespace deputy
