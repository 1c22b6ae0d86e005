#include "net/listener.h"

#include "log/warning_limiter.h"

namespace deputy {

Listener::Listener(EventLoop& loop, AcceptCallback on_accept)
    : loop_(loop), on_accept_(std::move(on_accept)) {}

Status Listener::Bind(const IpEndpoint& endpoint, int backlog) {
  int rc = handle_.Init([this](uv_tcp_t* h) { return uv_tcp_init(loop_.get(), h); }, this);
  if (rc == 0) rc = uv_tcp_bind(handle_.get(), endpoint.addr(), 0);
  if (rc == 0) {
    rc = uv_listen(handle_.stream(), backlog, [](uv_stream_t* s, int status) {
      if (auto* self = OwnerOf<Listener>(s)) self->OnConnection(status);
    });
  }
  if (rc != 0) {
    handle_.Close();
    return Status(ErrorCode::kInvalidConfig,
                  "cannot listen on " + endpoint.ToString() + ": " + uv_strerror(rc));
  }
  local_ = LocalEndpoint(handle_.get()).value_or(endpoint);
  return Status::Ok();
}

void Listener::OnConnection(int status) {
  if (status != 0) {
    // EMFILE and friends: the kernel keeps the connection queued; log and go on.
    WarnLimited("accept failed", "accept on {} failed: {}", local_.ToString(), uv_strerror(status));
    return;
  }
  UvHandle<uv_tcp_t> client;
  if (client.Init([this](uv_tcp_t* h) { return uv_tcp_init(loop_.get(), h); }, nullptr) != 0) {
    return;
  }
  if (uv_accept(handle_.stream(), client.stream()) != 0) return;
  on_accept_(std::make_unique<TcpStream>(std::move(client)));
}

}  // namespace deputy
