#pragma once

#include <memory>
#include <set>
#include <string>

#include "admin/admin_api.h"
#include "admin/metrics.h"
#include "base/status.h"
#include "http/request_head_parser.h"
#include "loop/event_loop.h"
#include "net/listener.h"

namespace deputy {

// AdminServer serves the admin listener, one request per connection: GET /healthz (alive),
// /readyz (ready for new clients), /metrics (Prometheus text format), /debug/delegations and
// /debug/tunnels (JSON), and POST /drain. With a `token` (admin.token_file), every request but
// /healthz and /readyz must carry "Authorization: Bearer <token>".
class AdminServer {
 public:
  AdminServer(EventLoop& loop, Metrics& metrics, AdminApi& api, std::string token = "");
  ~AdminServer();

  Status Bind(const IpEndpoint& endpoint);
  IpEndpoint local_endpoint() const { return listener_.local_endpoint(); }

 private:
  class Connection;
  struct Reply {
    int status = 200;
    std::string content_type;
    std::string body;
    std::string extra_headers;  // complete lines, each ending in CRLF
  };
  Reply Handle(const RequestHead& head);
  bool Authorized(const RequestHead& head) const;
  void OnAccept(std::unique_ptr<TcpStream> stream);
  void OnConnectionDone(Connection* connection);

  EventLoop& loop_;
  Metrics& metrics_;
  AdminApi& api_;
  const std::string token_;
  Listener listener_;
  std::set<Connection*> connections_;
};

}  // namespace deputy
