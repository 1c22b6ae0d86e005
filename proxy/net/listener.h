#pragma once

#include <functional>
#include <memory>

#include "base/status.h"
#include "loop/event_loop.h"
#include "loop/uv_handle.h"
#include "net/address.h"
#include "net/tcp_stream.h"

namespace deputy {

// Listener accepts TCP connections on one address and hands each to a callback.
class Listener {
 public:
  using AcceptCallback = std::function<void(std::unique_ptr<TcpStream>)>;

  Listener(EventLoop& loop, AcceptCallback on_accept);

  // Bind binds and listens; the actual address (port 0 picks one) is then local_endpoint().
  Status Bind(const IpEndpoint& endpoint, int backlog = 1024);
  IpEndpoint local_endpoint() const { return local_; }
  // Stop closes the listening socket; accepted connections are not affected.
  void Stop() { handle_.Close(); }

 private:
  void OnConnection(int status);

  EventLoop& loop_;
  AcceptCallback on_accept_;
  UvHandle<uv_tcp_t> handle_;
  IpEndpoint local_;
};

}  // namespace deputy
