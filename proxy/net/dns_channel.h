#pragma once

#include <ares.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "loop/uv_handle.h"
#include "net/address.h"
#include "net/dns_message.h"

namespace deputy {

// DnsChannel is one c-ares channel driven by a libuv loop, with no thread of its own: c-ares
// says which of its sockets to watch (its socket-state callback), a uv_poll_t per socket says
// when one is ready, and a timer wakes c-ares for its retransmissions and timeouts. Those
// handles do not keep the loop running: whoever waits for an answer holds a timer of its own.
// Every callback runs on the loop, never inside the call that started the query. Used from the
// loop's thread only.
class DnsChannel {
 public:
  struct Options {
    std::vector<IpEndpoint> servers;  // empty: the name servers of /etc/resolv.conf
    // The whole budget of one query, over every attempt at every server: c-ares waits
    // timeout, 2 x timeout, 4 x timeout ... per round of the servers, so each try gets
    // timeout_ms / (servers x (2^attempts - 1)).
    uint32_t timeout_ms = 5000;
    uint32_t attempts = 2;  // rounds over the servers
  };
  // `status` is c-ares' (ARES_SUCCESS, ARES_ENOTFOUND, ARES_ENODATA, ARES_ETIMEOUT, ...);
  // `message` the whole response when one arrived.
  using Done = std::function<void(int status, const unsigned char* message, int length)>;

  // Query is one query in flight; destroying it means its callback never runs. c-ares cannot
  // stop one query, so when no Query of a channel is left, a later turn of the loop cancels
  // all that still run.
  class Query {
   public:
    ~Query();
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;

   private:
    friend class DnsChannel;
    struct Request;
    Query(DnsChannel& channel, Done done);
    void Deliver(int status, const unsigned char* message, int length);

    DnsChannel& channel_;
    Done done_;
    Request* request_ = nullptr;
    // An answer c-ares gave inside ares_query waits here for the next turn of the loop.
    int early_status_ = ARES_SUCCESS;
    std::vector<unsigned char> early_message_;
    std::unique_ptr<Timer> early_;
  };

  // Create fails with c-ares' reason (no memory, no usable resolv.conf, a bad server list).
  static Result<std::unique_ptr<DnsChannel>> Create(EventLoop& loop, const Options& options);
  // Queries still running end here with ARES_EDESTRUCTION, reaching no Query. Never called
  // from inside one of the channel's callbacks.
  ~DnsChannel();
  DnsChannel(const DnsChannel&) = delete;
  DnsChannel& operator=(const DnsChannel&) = delete;

  // Send asks the name servers for (name, type); `name` is absolute, never expanded by a search
  // list.
  std::unique_ptr<Query> Send(const std::string& name, DnsType type, Done done);
  // FromHostsFile is what /etc/hosts says of `name` for `family` (AF_INET or AF_INET6), port 0.
  std::vector<IpEndpoint> FromHostsFile(const std::string& name, int family);
  // Queries c-ares has not ended yet, whether or not a Query still waits for them.
  size_t running() const { return running_; }
  size_t server_count() const { return server_count_; }

 private:
  // SocketWatch polls one of c-ares' sockets; the poll handle's data points to it.
  struct SocketWatch {
    DnsChannel* channel = nullptr;
    ares_socket_t fd = ARES_SOCKET_BAD;
    int events = 0;
    UvHandle<uv_poll_t> poll;
  };

  explicit DnsChannel(EventLoop& loop);
  static void OnSocketState(void* data, ares_socket_t fd, int readable, int writable);
  static void OnAnswer(void* arg, int status, int timeouts, unsigned char* message, int length);
  void WatchSocket(ares_socket_t fd, bool readable, bool writable);
  void StartPoll(SocketWatch& watch);
  void OnReady(ares_socket_t fd, int status, int events);
  void Rearm();

  EventLoop& loop_;
  ares_channel channel_ = nullptr;
  size_t server_count_ = 0;
  std::map<ares_socket_t, std::unique_ptr<SocketWatch>> watches_;
  UvHandle<uv_timer_t> timer_;
  UvHandle<uv_timer_t> cancel_;  // runs ares_cancel outside c-ares once no Query is left
  size_t running_ = 0;
  size_t attached_ = 0;
  bool sending_ = false;  // inside ares_query, where c-ares may answer at once
};

}  // namespace deputy
