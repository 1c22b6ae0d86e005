#include "server/worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "config/services_db.h"
#include "frontends/connect_frontend.h"
#include "frontends/fixed_frontend.h"
#include "frontends/socks5_frontend.h"
#include "log/warning_limiter.h"

namespace deputy {

struct Worker::Served {
  std::shared_ptr<const ConfigGeneration> generation;
  SessionServices services;
  std::map<std::string, std::unique_ptr<ProxyAuthenticator>> authenticators;  // by listener
  std::map<std::string, const ConfigGeneration::Listener*> by_socket;
};

Worker::Worker(unsigned index, ProcessServices& process,
               std::shared_ptr<const ConfigGeneration> generation, StoppedCallback on_stopped)
    : index_(index),
      process_(process),
      on_stopped_(std::move(on_stopped)),
      rng_(std::random_device{}()),
      resolver_(loop_, generation->config().dns.Settings(), &process.dns_observer),
      auth_services_{loop_,
                     process.auth,
                     process.password_verifier,
                     process.auth_failures,
                     process.verified_credentials,
                     process.auth_metrics},
      served_(Serve(std::move(generation))),
      drain_deadline_(loop_, [this] {
        spdlog::info("worker {}: drain deadline reached; closing {} sessions", index_,
                     sessions_.size());
        cutting_ = true;
        AbortSessions();
        MaybeStop();
      }) {}

Worker::~Worker() { Join(); }

void Worker::Join() {
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<Worker::Served> Worker::Serve(std::shared_ptr<const ConfigGeneration> generation) {
  const ConfigGeneration& g = *generation;
  auto served = std::shared_ptr<Served>(
      new Served{generation,
                 SessionServices{loop_, g.config(), process_.delegations, resolver_, g.guard(),
                                 g.policy(), g.upstream_ctx(), process_.metrics, rng_, index_},
                 {},
                 {}});
  for (const ConfigGeneration::Listener& listener : g.listeners()) {
    served->by_socket[listener.socket_key] = &listener;
    if (!listener.config->auth) continue;
    served->authenticators[listener.config->name] = std::make_unique<ProxyAuthenticator>(
        auth_services_, *listener.users, *listener.config->auth);
  }
  return served;
}

void Worker::Apply(std::shared_ptr<const ConfigGeneration> generation, Sockets opened,
                   std::function<void()> applied) {
  if (!thread_.joinable()) {
    ApplyNow(std::move(generation), std::move(opened));
    if (applied) applied();
    return;
  }
  // Posted tasks are copied; the sockets move through a shared holder.
  auto sockets = std::make_shared<Sockets>(std::move(opened));
  loop_.Post([this, generation = std::move(generation), sockets, applied = std::move(applied)] {
    ApplyNow(generation, std::move(*sockets));
    if (applied) applied();
  });
}

void Worker::ApplyNow(std::shared_ptr<const ConfigGeneration> generation, Sockets opened) {
  if (Status dns = resolver_.Reconfigure(generation->config().dns.Settings()); !dns.ok()) {
    spdlog::error("worker {}: the DNS settings stay as they were: {}", index_, dns.message());
  }
  served_ = Serve(std::move(generation));
  // Closing a socket resets the connections queued on it but not yet accepted; those already
  // accepted are sessions, which go on.
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    if (served_->by_socket.contains(it->first)) {
      ++it;
    } else {
      it = listeners_.erase(it);
    }
  }
  for (auto& [key, socket] : opened) {
    auto listener = std::make_unique<Listener>(
        loop_,
        [this, key = key](std::unique_ptr<TcpStream> client) { OnAccept(key, std::move(client)); });
    const std::string address = socket.local.ToString();
    if (Status adopted = listener->Adopt(std::move(socket)); !adopted.ok()) {
      spdlog::error("worker {}: not accepting on {}: {}", index_, address, adopted.message());
      continue;
    }
    if (draining_) listener->Stop();
    listeners_.insert_or_assign(key, std::move(listener));
  }
}

void Worker::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Worker::Run() {
  process_.delegations.WatchFetchesOn(loop_, [this] { MaybeStop(); });
  loop_.Run();
  // Stopped: what is left goes now, on this thread, and one more run lets the sessions' deferred
  // deletions and handle closes finish. The loop itself closes with the worker.
  process_.delegations.WatchFetchesOn(loop_, nullptr);
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
    for (auto& [key, listener] : listeners_) listener->Stop();
    drain_deadline_.Start(deadline_ms);
    MaybeStop();
  });
}

void Worker::Abort() {
  stop_accepting_.store(true, std::memory_order_relaxed);
  loop_.Post([this] {
    draining_ = true;
    cutting_ = true;
    for (auto& [key, listener] : listeners_) listener->Stop();
    AbortSessions();
    MaybeStop();
  });
}

void Worker::AbortSessions() {
  for (Session* session : std::set<Session*>(sessions_)) session->Abort();
}

void Worker::MaybeStop() {
  if (!draining_ || !sessions_.empty()) return;
  // Sessions of other workers may wait on a fetch this loop runs; it ends by its own timeout if
  // not before, and then the watcher set in Run calls here again.
  if (!cutting_ && process_.delegations.WaitedOnElsewhere(loop_)) return;
  drain_deadline_.Stop();
  loop_.Stop();
}

void Worker::OnAccept(const std::string& socket_key, std::unique_ptr<TcpStream> client) {
  if (draining_ || stop_accepting_.load(std::memory_order_relaxed)) return;
  const auto state = served_->by_socket.find(socket_key);
  if (state == served_->by_socket.end()) return;  // its listener went in a reload
  const ListenerConfig& listener = *state->second->config;
  ConnectionSlots::Count& connections = *state->second->connections;
  Metrics& metrics = process_.metrics;
  switch (process_.slots.Take(connections, listener.max_connections)) {
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
                  ConnectionSlots::on(connections));
      return;
  }
  std::unique_ptr<Frontend> frontend;
  const auto found = served_->authenticators.find(listener.name);
  ProxyAuthenticator* authenticator =
      found == served_->authenticators.end() ? nullptr : found->second.get();
  const Config& config = served_->generation->config();
  if (listener.type == ListenerType::kConnect) {
    frontend = std::make_unique<ConnectFrontend>(loop_, listener, config, authenticator);
  } else if (listener.type == ListenerType::kSocks5) {
    frontend = std::make_unique<Socks5Frontend>(loop_, listener, config, authenticator);
  } else {
    Destination destination{listener.domain, listener.service, listener.port};
    if (!destination.port) destination.port = PortForService(listener.service, config);
    frontend = std::make_unique<FixedFrontend>(loop_, std::move(destination));
  }
  const std::optional<TlsServerContext>& tls = state->second->tls;
  auto* session =
      new Session(std::shared_ptr<const SessionServices>(served_, &served_->services), listener,
                  std::move(client), tls ? tls->Share() : nullptr, std::move(frontend),
                  [this, &connections](Session* s) { OnSessionFinished(s, connections); });
  sessions_.insert(session);
  session->Start();
}

void Worker::OnSessionFinished(Session* session, ConnectionSlots::Count& connections) {
  if (sessions_.erase(session) == 0) return;
  process_.slots.Release(connections);
  loop_.DeferDelete(std::unique_ptr<Deferrable>(session));
  MaybeStop();
}

}  // namespace deputy
