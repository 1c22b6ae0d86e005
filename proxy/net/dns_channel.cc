#include "net/dns_channel.h"

#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/time.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace deputy {

namespace {

Status AresError(const std::string& what, int rc) {
  return Status(ErrorCode::kDnsError, what + ": " + ares_strerror(rc));
}

size_t CountServers(ares_channel channel) {
  ares_addr_port_node* servers = nullptr;
  if (ares_get_servers_ports(channel, &servers) != ARES_SUCCESS) return 1;
  size_t count = 0;
  for (const ares_addr_port_node* node = servers; node != nullptr; node = node->next) ++count;
  ares_free_data(servers);
  return std::max<size_t>(count, 1);
}

// Init starts a channel with deputy's fixed settings and the given per-try timeout.
int Init(ares_channel* channel, const std::vector<IpEndpoint>& servers, uint32_t try_timeout_ms,
         uint32_t attempts, ares_sock_state_cb state_cb, void* state_data) {
  ares_options settings{};
  // Every name deputy resolves is absolute. In c-ares 1.18 it is an empty search list (domains
  // replaced by none) that keeps resolv.conf's search and ndots from applying; NOSEARCH covers
  // ares_search and NOALIASES ignores HOSTALIASES from the environment.
  settings.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
  settings.domains = nullptr;
  settings.ndomains = 0;
  settings.timeout = static_cast<int>(try_timeout_ms);
  settings.tries = static_cast<int>(attempts);
  settings.sock_state_cb = state_cb;
  settings.sock_state_cb_data = state_data;
  const int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB |
                   ARES_OPT_DOMAINS;
  if (int rc = ares_init_options(channel, &settings, mask); rc != ARES_SUCCESS) {
    *channel = nullptr;
    return rc;
  }
  if (servers.empty()) return ARES_SUCCESS;
  std::string list;
  for (const IpEndpoint& server : servers) {
    if (!list.empty()) list += ',';
    list += server.ToString();
  }
  if (int rc = ares_set_servers_ports_csv(*channel, list.c_str()); rc != ARES_SUCCESS) {
    ares_destroy(*channel);
    *channel = nullptr;
    return rc;
  }
  return ARES_SUCCESS;
}

}  // namespace

struct DnsChannel::Query::Request {
  DnsChannel* channel;
  Query* query;
};

DnsChannel::Query::Query(DnsChannel& channel, Done done)
    : channel_(channel), done_(std::move(done)) {
  ++channel_.attached_;
}

DnsChannel::Query::~Query() {
  if (request_ != nullptr) request_->query = nullptr;
  if (--channel_.attached_ == 0 && channel_.running_ > 0) {
    uv_timer_start(
        channel_.cancel_.get(),
        [](uv_timer_t* handle) {
          auto* channel = OwnerOf<DnsChannel>(handle);
          if (channel != nullptr && channel->attached_ == 0) ares_cancel(channel->channel_);
        },
        0, 0);
  }
}

void DnsChannel::Query::Deliver(int status, const unsigned char* message, int length) {
  Done done = std::move(done_);
  done(status, message, length);
}

DnsChannel::DnsChannel(EventLoop& loop) : loop_(loop) {}

Result<std::unique_ptr<DnsChannel>> DnsChannel::Create(EventLoop& loop, const Options& options) {
  // Process-wide and idempotent on Linux; c-ares asks for it before the first channel.
  static const int library = ares_library_init(ARES_LIB_INIT_ALL);
  if (library != ARES_SUCCESS) return AresError("cannot initialise c-ares", library);

  std::unique_ptr<DnsChannel> channel(new DnsChannel(loop));
  const uint32_t attempts = std::clamp<uint32_t>(options.attempts, 1, 16);
  // The per-try timeout depends on how many servers there are, which resolv.conf may say: a
  // first channel reads it.
  size_t servers = options.servers.size();
  if (servers == 0) {
    ares_channel probe = nullptr;
    if (int rc = Init(&probe, {}, 1000, 1, nullptr, nullptr); rc != ARES_SUCCESS) {
      return AresError("cannot start the DNS resolver", rc);
    }
    servers = CountServers(probe);
    ares_destroy(probe);
  }
  const uint64_t shares = uint64_t{servers} * ((uint64_t{1} << attempts) - 1);
  const auto try_timeout_ms =
      static_cast<uint32_t>(std::max<uint64_t>(options.timeout_ms / shares, 1));
  if (int rc = Init(&channel->channel_, options.servers, try_timeout_ms, attempts,
                    &DnsChannel::OnSocketState, channel.get());
      rc != ARES_SUCCESS) {
    return AresError(
        options.servers.empty() ? "cannot start the DNS resolver" : "cannot use dns.servers", rc);
  }
  channel->server_count_ = CountServers(channel->channel_);
  for (UvHandle<uv_timer_t>* timer : {&channel->timer_, &channel->cancel_}) {
    if (int rc = timer->Init([&loop](uv_timer_t* t) { return uv_timer_init(loop.get(), t); },
                             channel.get());
        rc != 0) {
      return Status(ErrorCode::kDnsError,
                    std::string("cannot start the DNS resolver: ") + uv_strerror(rc));
    }
    uv_unref(timer->base());
  }
  return channel;
}

DnsChannel::~DnsChannel() {
  if (channel_ != nullptr) ares_destroy(channel_);
  watches_.clear();
}

std::unique_ptr<DnsChannel::Query> DnsChannel::Send(const std::string& name, DnsType type,
                                                    Done done) {
  std::unique_ptr<Query> query(new Query(*this, std::move(done)));
  auto* request = new Query::Request{this, query.get()};
  query->request_ = request;
  ++running_;
  sending_ = true;
  ares_query(channel_, name.c_str(), ns_c_in, static_cast<int>(type), &DnsChannel::OnAnswer,
             request);
  sending_ = false;
  if (query->request_ == nullptr) {
    // Answered inside ares_query (out of memory, no servers): delivered on the next turn.
    query->early_ = std::make_unique<Timer>(loop_, [q = query.get()] {
      q->Deliver(q->early_status_, q->early_message_.data(),
                 static_cast<int>(q->early_message_.size()));
    });
    query->early_->Start(0);
    return query;
  }
  Rearm();
  return query;
}

void DnsChannel::OnAnswer(void* arg, int status, int /*timeouts*/, unsigned char* message,
                          int length) {
  auto* request = static_cast<Query::Request*>(arg);
  DnsChannel* channel = request->channel;
  Query* query = request->query;
  delete request;
  --channel->running_;
  if (query == nullptr) return;
  query->request_ = nullptr;
  if (!query->done_) return;
  if (channel->sending_) {
    query->early_status_ = status;
    if (message != nullptr && length > 0) query->early_message_.assign(message, message + length);
    return;
  }
  query->Deliver(status, message, length);
}

std::vector<IpEndpoint> DnsChannel::FromHostsFile(const std::string& name, int family) {
  hostent* host = nullptr;
  std::vector<IpEndpoint> endpoints;
  if (ares_gethostbyname_file(channel_, name.c_str(), family, &host) != ARES_SUCCESS ||
      host == nullptr) {
    return endpoints;
  }
  for (char** address = host->h_addr_list; address != nullptr && *address != nullptr; ++address) {
    IpEndpoint endpoint;
    if (host->h_addrtype == AF_INET && host->h_length == 4) {
      auto* in = reinterpret_cast<sockaddr_in*>(&endpoint.storage);
      in->sin_family = AF_INET;
      std::memcpy(&in->sin_addr, *address, 4);
    } else if (host->h_addrtype == AF_INET6 && host->h_length == 16) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&endpoint.storage);
      in6->sin6_family = AF_INET6;
      std::memcpy(&in6->sin6_addr, *address, 16);
    } else {
      continue;
    }
    endpoints.push_back(endpoint);
  }
  ares_free_hostent(host);
  return endpoints;
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
    uv_unref(watch->poll.base());
  }
  watch->events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
  StartPoll(*watch);
}

void DnsChannel::StartPoll(SocketWatch& watch) {
  uv_poll_start(watch.poll.get(), watch.events, [](uv_poll_t* handle, int status, int ready) {
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
  // libuv stops a poll that reported an error; one c-ares still uses must go on.
  if (status < 0) {
    if (auto it = watches_.find(fd); it != watches_.end()) StartPoll(*it->second);
  }
  Rearm();
}

void DnsChannel::Rearm() {
  timeval wait{};
  if (ares_timeout(channel_, nullptr, &wait) == nullptr) {
    uv_timer_stop(timer_.get());
    return;
  }
  // Rounded up and one more, so that c-ares finds the deadline passed when the timer fires
  // instead of being woken again and again just before it.
  const uint64_t ms = static_cast<uint64_t>(wait.tv_sec) * 1000 +
                      (static_cast<uint64_t>(wait.tv_usec) + 999) / 1000 + 1;
  uv_timer_start(
      timer_.get(),
      [](uv_timer_t* handle) {
        if (auto* channel = OwnerOf<DnsChannel>(handle)) {
          ares_process_fd(channel->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
          channel->Rearm();
        }
      },
      ms, 0);
}

}  // namespace deputy
