#include "net/dns_channel.h"

#include <sys/time.h>

#include <string>

namespace deputy {

namespace {

Status AresError(const std::string& what, int rc) {
  return Status(ErrorCode::kDnsError, what + ": " + ares_strerror(rc));
}

}  // namespace

DnsChannel::DnsChannel(EventLoop& loop) : loop_(loop), timer_(loop, [this] { OnTimer(); }) {}

Result<std::unique_ptr<DnsChannel>> DnsChannel::Create(EventLoop& loop, const Options& options) {
  // Process-wide and idempotent on Linux; c-ares asks for it before the first channel.
  static const int library = ares_library_init(ARES_LIB_INIT_ALL);
  if (library != ARES_SUCCESS) return AresError("cannot initialise c-ares", library);

  std::unique_ptr<DnsChannel> channel(new DnsChannel(loop));
  ares_options settings{};
  // Every name deputy resolves is absolute: no search domains (resolv.conf's are replaced by
  // none), so no `ndots` detours either.
  settings.flags = ARES_FLAG_NOSEARCH;
  settings.domains = nullptr;
  settings.ndomains = 0;
  settings.timeout = static_cast<int>(options.attempt_timeout_ms);
  settings.tries = static_cast<int>(options.attempts);
  settings.sock_state_cb = &DnsChannel::OnSocketState;
  settings.sock_state_cb_data = channel.get();
  const int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB |
                   ARES_OPT_DOMAINS;
  if (int rc = ares_init_options(&channel->channel_, &settings, mask); rc != ARES_SUCCESS) {
    channel->channel_ = nullptr;
    return AresError("cannot start the DNS resolver", rc);
  }
  if (!options.servers.empty()) {
    std::string servers;
    for (const IpEndpoint& server : options.servers) {
      if (!servers.empty()) servers += ',';
      servers += server.ToString();
    }
    if (int rc = ares_set_servers_ports_csv(channel->channel_, servers.c_str());
        rc != ARES_SUCCESS) {
      return AresError("dns.servers " + servers, rc);
    }
  }
  return channel;
}

DnsChannel::~DnsChannel() {
  if (channel_ != nullptr) ares_destroy(channel_);
  watches_.clear();
}

void DnsChannel::OnSocketState(void* data, ares_socket_t fd, int readable, int writable) {
  static_cast<DnsChannel*>(data)->WatchSocket(fd, readable != 0, writable != 0);
}

void DnsChannel::WatchSocket(ares_socket_t fd, bool readable, bool writable) {
  if (!readable && !writable) {
    // c-ares is about to close the socket: stop polling it while it is still open.
    watches_.erase(fd);
    return;
  }
  auto& watch = watches_[fd];
  if (!watch) {
    watch = std::make_unique<SocketWatch>();
    watch->channel = this;
    watch->fd = fd;
    const int rc = watch->poll.Init(
        [this, fd](uv_poll_t* handle) { return uv_poll_init_socket(loop_.get(), handle, fd); },
        watch.get());
    if (rc != 0) {
      // The query on this socket then ends by its timeout, which the timer still drives.
      watches_.erase(fd);
      return;
    }
  }
  const int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
  uv_poll_start(watch->poll.get(), events, [](uv_poll_t* handle, int status, int ready) {
    if (auto* watched = OwnerOf<SocketWatch>(handle)) {
      watched->channel->OnReady(watched->fd, status, ready);
    }
  });
}

void DnsChannel::OnReady(ares_socket_t fd, int status, int events) {
  // On a poll error c-ares reads the socket and learns the error itself.
  const bool read = status < 0 || (events & UV_READABLE) != 0;
  const bool write = status == 0 && (events & UV_WRITABLE) != 0;
  ares_process_fd(channel_, read ? fd : ARES_SOCKET_BAD, write ? fd : ARES_SOCKET_BAD);
  Rearm();
}

void DnsChannel::OnTimer() {
  ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  Rearm();
}

void DnsChannel::Rearm() {
  timeval wait{};
  if (ares_timeout(channel_, nullptr, &wait) == nullptr) {
    timer_.Stop();
    return;
  }
  // Rounded up, so that c-ares finds the deadline passed when the timer fires.
  const uint64_t ms = static_cast<uint64_t>(wait.tv_sec) * 1000 +
                      (static_cast<uint64_t>(wait.tv_usec) + 999) / 1000;
  timer_.Start(ms);
}

}  // namespace deputy
