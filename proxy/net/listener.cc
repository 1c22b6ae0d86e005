#include "net/listener.h"

#include <sys/socket.h>

#include <cerrno>

#include "log/warning_limiter.h"

namespace deputy {

namespace {

// Connections accepted per wake-up, so one busy listener does not starve the loop's other work;
// the poll stays readable and wakes the loop again.
constexpr int kAcceptBatch = 64;
// How long accepting pauses when descriptors or memory run out: sessions that end meanwhile
// free what the next accept needs, and queued clients wait in the kernel's backlog.
constexpr uint64_t kPauseMs = 100;

Status ListenError(const IpEndpoint& endpoint, int error) {
  return Status(ErrorCode::kInvalidConfig, "cannot listen on " + endpoint.ToString() + ": " +
                                               uv_strerror(uv_translate_sys_error(error)));
}

// Errors of one queued connection (it went away, a firewall hook refused it, or, as accept(2)
// says of Linux, a network error already pending on it), after which the next may well be
// accepted.
bool IsConnectionError(int error) {
  switch (error) {
    case ECONNABORTED:
    case EINTR:
    case EPERM:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
      return true;
    default:
      return false;
  }
}

}  // namespace

Listener::Listener(EventLoop& loop, AcceptCallback on_accept)
    : loop_(loop), on_accept_(std::move(on_accept)), resume_(loop, [this] { StartPolling(); }) {}

Result<Listener::ListeningSocket> Listener::Open(const IpEndpoint& endpoint, bool share_port,
                                                 int backlog) {
  UniqueFd socket(
      ::socket(endpoint.addr()->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket) return ListenError(endpoint, errno);
  const int on = 1;
  // SO_REUSEADDR as libuv sets it: a restart binds while old connections sit in TIME_WAIT.
  if (setsockopt(socket.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
      (share_port && setsockopt(socket.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0)) {
    return ListenError(endpoint, errno);
  }
  const socklen_t length =
      endpoint.addr()->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (::bind(socket.get(), endpoint.addr(), length) != 0 || ::listen(socket.get(), backlog) != 0) {
    return ListenError(endpoint, errno);
  }
  IpEndpoint bound;
  socklen_t bound_length = sizeof(bound.storage);
  if (getsockname(socket.get(), reinterpret_cast<sockaddr*>(&bound.storage), &bound_length) != 0) {
    return ListenError(endpoint, errno);
  }
  return ListeningSocket{std::move(socket), bound};
}

Status Listener::Adopt(ListeningSocket socket) {
  const int rc = poll_.Init(
      [this, &socket](uv_poll_t* h) { return uv_poll_init(loop_.get(), h, socket.fd.get()); },
      this);
  if (rc != 0) return ListenError(socket.local, -rc);
  socket_ = std::move(socket.fd);
  local_ = socket.local;
  StartPolling();
  return Status::Ok();
}

Status Listener::Bind(const IpEndpoint& endpoint, bool share_port, int backlog) {
  Result<ListeningSocket> socket = Open(endpoint, share_port, backlog);
  if (!socket.ok()) return socket.status();
  return Adopt(std::move(socket).value());
}

void Listener::Stop() {
  resume_.Stop();
  poll_.Close();
  socket_.Reset();
}

void Listener::StartPolling() {
  if (!poll_) return;
  uv_poll_start(poll_.get(), UV_READABLE, [](uv_poll_t* h, int status, int) {
    if (auto* self = OwnerOf<Listener>(h)) {
      if (status == 0) self->OnReadable();
    }
  });
}

void Listener::OnReadable() {
  for (int i = 0; i < kAcceptBatch && socket_; ++i) {
    UniqueFd accepted(::accept4(socket_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!accepted) {
      const int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK) return;
      if (IsConnectionError(error)) continue;
      Pause(error);
      return;
    }
    UvHandle<uv_tcp_t> client;
    int rc = client.Init([this](uv_tcp_t* h) { return uv_tcp_init(loop_.get(), h); }, nullptr);
    if (rc == 0) rc = uv_tcp_open(client.get(), accepted.get());
    if (rc != 0) {
      Pause(-rc);
      return;
    }
    accepted.Release();  // the handle owns it now
    on_accept_(std::make_unique<TcpStream>(std::move(client)));
  }
}

void Listener::Pause(int error) {
  // EMFILE, ENFILE, ENOBUFS, ENOMEM: the kernel keeps the connections queued meanwhile.
  WarnLimited("accept paused", "accept on {} failed: {}; pausing accepts for {} ms",
              local_.ToString(), uv_strerror(uv_translate_sys_error(error)), kPauseMs);
  uv_poll_stop(poll_.get());
  resume_.Start(kPauseMs);
}

}  // namespace deputy
