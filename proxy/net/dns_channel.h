#pragma once

#include <ares.h>

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "base/status.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "loop/uv_handle.h"
#include "net/address.h"

namespace deputy {

// DnsChannel is one c-ares channel driven by a libuv loop, with no thread of its own: c-ares
// says which of its sockets to watch (its socket-state callback), a uv_poll_t per socket says
// when one is ready, and a timer wakes c-ares for its retransmissions and timeouts. Every
// query's callback runs on the loop. One per loop; used from that loop's thread only.
class DnsChannel {
 public:
  struct Options {
    std::vector<IpEndpoint> servers;  // empty: the name servers of /etc/resolv.conf
    uint32_t attempt_timeout_ms = 2500;
    uint32_t attempts = 2;
  };

  // Create fails with c-ares' reason (no memory, no usable resolv.conf, a bad server list).
  static Result<std::unique_ptr<DnsChannel>> Create(EventLoop& loop, const Options& options);
  // Queries still pending end with ARES_EDESTRUCTION; their callbacks run inside.
  ~DnsChannel();
  DnsChannel(const DnsChannel&) = delete;
  DnsChannel& operator=(const DnsChannel&) = delete;

  ares_channel get() const { return channel_; }
  // Rearm is called after starting a query: c-ares may want waking sooner than the timer says.
  void Rearm();

 private:
  // SocketWatch polls one of c-ares' sockets; the poll handle's data points to it.
  struct SocketWatch {
    DnsChannel* channel = nullptr;
    ares_socket_t fd = ARES_SOCKET_BAD;
    UvHandle<uv_poll_t> poll;
  };

  explicit DnsChannel(EventLoop& loop);
  static void OnSocketState(void* data, ares_socket_t fd, int readable, int writable);
  void WatchSocket(ares_socket_t fd, bool readable, bool writable);
  void OnReady(ares_socket_t fd, int status, int events);
  void OnTimer();

  EventLoop& loop_;
  ares_channel channel_ = nullptr;
  std::map<ares_socket_t, std::unique_ptr<SocketWatch>> watches_;
  Timer timer_;
};

}  // namespace deputy
