#pragma once

#include <functional>
#include <memory>

#include "base/status.h"
#include "base/unique_fd.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "loop/uv_handle.h"
#include "net/address.h"
#include "net/tcp_stream.h"

namespace deputy {

// Listener accepts TCP connections on one address and hands each to a callback. It accepts
// itself, from a poll handle, rather than through uv_listen: when the process runs out of
// descriptors it stops polling for a while and leaves connections queued in the kernel, where
// libuv would close them (its spare-descriptor trick, which several loops in one process race
// for, and then retry accept without pause).
class Listener {
 public:
  using AcceptCallback = std::function<void(std::unique_ptr<TcpStream>)>;

  // ListeningSocket is a socket bound and listening, not yet watched by any loop: opened on one
  // thread (where a bind error can still stop a reload) and adopted on the loop's own.
  struct ListeningSocket {
    UniqueFd fd;
    IpEndpoint local;  // the actual address (port 0 resolved)
  };

  Listener(EventLoop& loop, AcceptCallback on_accept);

  // Open binds and listens on any thread. With `share_port`, the socket has SO_REUSEPORT, so
  // every worker binds the same address and the kernel spreads new connections over their
  // sockets.
  static Result<ListeningSocket> Open(const IpEndpoint& endpoint, bool share_port = false,
                                      int backlog = 1024);
  // Adopt starts accepting on `socket`; called on the loop's thread.
  Status Adopt(ListeningSocket socket);
  // Bind is Open and Adopt at once; the actual address is then local_endpoint().
  Status Bind(const IpEndpoint& endpoint, bool share_port = false, int backlog = 1024);
  IpEndpoint local_endpoint() const { return local_; }
  // Stop closes the listening socket; accepted connections are not affected, and connections
  // queued for it but not yet accepted are reset by the kernel.
  void Stop();

 private:
  void StartPolling();
  void OnReadable();
  // Pause stops accepting for a moment when accept fails for want of resources.
  void Pause(int error);

  EventLoop& loop_;
  AcceptCallback on_accept_;
  UniqueFd socket_;
  // Declared after the socket it watches, so it is closed first.
  UvHandle<uv_poll_t> poll_;
  Timer resume_;
  IpEndpoint local_;
};

}  // namespace deputy
