#include "server/worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "config/services_db.h"
#include "frontends/connect_frontend.h"
#include "frontends/fixed_frontend.h"
#include "frontends/socks5_frontend.h"
#include "log/warning_limiter.h"

namespace deputy {

Worker::Worker(unsigned index, ProcessServices& process, StoppedCallback on_stopped)
    : index_(index),
      process_(process),
      on_stopped_(std::move(on_stopped)),
      rng_(std::random_device{}()),
      resolver_(loop_, process.config.dns.hosts, process.config.dns.timeout_ms),
      auth_services_{loop_,
                     process.config.auth,
                     process.password_verifier,
                     process.auth_failures,
                     process.verified_credentials,
                     process.auth_metrics},
      services_{loop_,          process.config,       process.delegations, resolver_, process.guard,
                process.policy, process.upstream_ctx, process.metrics,     rng_,      index},
      drain_deadline_(loop_, [this] {
        spdlog::info("worker {}: drain deadline reached; closing {} sessions", index_,
                     sessions_.size());
        AbortSessions();
        MaybeStop();
      }) {
  for (const ListenerConfig& listener : process.config.listeners) {
    if (!listener.auth) continue;
    authenticators_[&listener] = std::make_unique<ProxyAuthenticator>(
        auth_services_, *process.users.at(&listener), *listener.auth);
  }
}

Worker::~Worker() { Join(); }

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

Result<std::vector<IpEndpoint>> Worker::Bind(const std::vector<IpEndpoint>& endpoints,
                                             bool share_port) {
  std::vector<IpEndpoint> bound;
  const std::vector<ListenerConfig>& listeners = process_.config.listeners;
  for (size_t i = 0; i < listeners.size(); ++i) {
    const ListenerConfig& listener = listeners[i];
    auto socket =
        std::make_unique<Listener>(loop_, [this, &listener, i](std::unique_ptr<TcpStream> client) {
          OnAccept(listener, i, std::move(client));
        });
    Status status = socket->Bind(endpoints[i], share_port);
    if (!status.ok()) {
      return Status(status.code(), "listener " + listener.name + ": " + status.message());
    }
    bound.push_back(socket->local_endpoint());
    listeners_.push_back(std::move(socket));
  }
  return bound;
}

void Worker::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Worker::Run() {
  loop_.Run();
  // Stopped: what is left goes now, on this thread, and one more run lets the sessions' deferred
  // deletions and handle closes finish. The loop itself closes with the worker.
  AbortSessions();
  listeners_.clear();
  process_.delegations.AbandonFlightsOn(loop_);
  drain_deadline_.Stop();
  loop_.Run();
  on_stopped_(index_);
}

void Worker::Drain(uint64_t deadline_ms) {
  // Set now, so a connection the loop accepts before the task below runs is closed at once.
  stop_accepting_.store(true, std::memory_order_relaxed);
  loop_.Post([this, deadline_ms] {
    if (draining_) return;
    draining_ = true;
    for (std::unique_ptr<Listener>& listener : listeners_) listener->Stop();
    drain_deadline_.Start(deadline_ms);
    MaybeStop();
  });
}

void Worker::Abort() {
  stop_accepting_.store(true, std::memory_order_relaxed);
  loop_.Post([this] {
    draining_ = true;
    for (std::unique_ptr<Listener>& listener : listeners_) listener->Stop();
    AbortSessions();
    MaybeStop();
  });
}

void Worker::AbortSessions() {
  for (Session* session : std::set<Session*>(sessions_)) session->Abort();
}

void Worker::MaybeStop() {
  if (!draining_ || !sessions_.empty()) return;
  drain_deadline_.Stop();
  loop_.Stop();
}

void Worker::OnAccept(const ListenerConfig& listener, size_t listener_index,
                      std::unique_ptr<TcpStream> client) {
  if (draining_ || stop_accepting_.load(std::memory_order_relaxed)) return;
  Metrics& metrics = process_.metrics;
  switch (process_.slots.Take(listener_index, listener.max_connections)) {
    case ConnectionSlots::Refusal::kNone:
      break;
    case ConnectionSlots::Refusal::kProcess:
      // Refused like a listener's own limit, before descriptors run out for the clients served.
      metrics.Tunnels(listener.name, Describe(ErrorCode::kConnectionLimit).label).Increment();
      WarnLimited("connection over the connection limit",
                  "{} client connections open on all listeners (the limit, {}), refusing "
                  "another on {}",
                  process_.slots.total(), process_.slots.process_limit(), listener.name);
      return;
    case ConnectionSlots::Refusal::kListener:
      // Closing at once is cheaper than answering; the client sees a reset and can retry.
      metrics.Tunnels(listener.name, Describe(ErrorCode::kConnectionLimit).label).Increment();
      WarnLimited("connection over max_connections",
                  "listener {}: {} connections open, refusing another", listener.name,
                  process_.slots.on(listener_index));
      return;
  }
  std::unique_ptr<Frontend> frontend;
  const auto found = authenticators_.find(&listener);
  ProxyAuthenticator* authenticator =
      found == authenticators_.end() ? nullptr : found->second.get();
  const Config& config = process_.config;
  if (listener.type == ListenerType::kConnect) {
    frontend = std::make_unique<ConnectFrontend>(loop_, listener, config, authenticator);
  } else if (listener.type == ListenerType::kSocks5) {
    frontend = std::make_unique<Socks5Frontend>(loop_, listener, config, authenticator);
  } else {
    Destination destination{listener.domain, listener.service, listener.port};
    if (!destination.port) destination.port = PortForService(listener.service, config);
    frontend = std::make_unique<FixedFrontend>(loop_, std::move(destination));
  }
  auto* session =
      new Session(services_, listener, std::move(client), process_.client_tls.Share(listener),
                  std::move(frontend),
                  [this, listener_index](Session* s) { OnSessionFinished(s, listener_index); });
  sessions_.insert(session);
  session->Start();
}

void Worker::OnSessionFinished(Session* session, size_t listener_index) {
  if (sessions_.erase(session) == 0) return;
  process_.slots.Release(listener_index);
  loop_.DeferDelete(std::unique_ptr<Deferrable>(session));
  MaybeStop();
}

}  // namespace deputy
