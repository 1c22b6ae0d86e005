#pragma once

#include <functional>
#include <memory>
#include <set>

#include "admin/metrics.h"
#include "base/status.h"
#include "loop/event_loop.h"
#include "net/listener.h"

namespace deputy {

// AdminServer answers GET /metrics (Prometheus text format) and GET /healthz on the admin
// listener, one request per connection.
class AdminServer {
 public:
  AdminServer(EventLoop& loop, Metrics& metrics, std::function<bool()> healthy);
  ~AdminServer();

  Status Bind(const IpEndpoint& endpoint);
  IpEndpoint local_endpoint() const { return listener_.local_endpoint(); }

 private:
  class Connection;
  void OnAccept(std::unique_ptr<TcpStream> stream);
  void OnConnectionDone(Connection* connection);

  EventLoop& loop_;
  Metrics& metrics_;
  std::function<bool()> healthy_;
  Listener listener_;
  std::set<Connection*> connections_;
};

}  // namespace deputy
