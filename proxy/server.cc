#include "server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "base/descriptor_budget.h"
#include "config/services_db.h"
#include "frontends/connect_frontend.h"
#include "frontends/fixed_frontend.h"
#include "frontends/socks5_frontend.h"
#include "log/warning_limiter.h"

namespace deputy {

namespace {

// How long running tunnels may finish on their own after SIGTERM before they are cut.
constexpr uint64_t kDrainMs = 5000;
// Client addresses with recent authentication failures, and verified credentials, remembered.
constexpr size_t kMaxFailingAddresses = 65536;
constexpr size_t kMaxVerifiedCredentials = 16384;

void AnnounceListening(const std::string& name, const IpEndpoint& endpoint) {
  nlohmann::json line = {
      {"event", "listening"}, {"listener", name}, {"address", endpoint.ToString()}};
  std::string text = line.dump() + "\n";
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

void WarnIfMixedHashes(const ProxyAuthenticator& authenticator) {
  if (!authenticator.MixedHashSettings()) return;
  spdlog::warn(
      "listener {}: the users file mixes hash methods or costs, so a wrong user name can take "
      "another time to refuse than a wrong password; rehash every user alike",
      authenticator.listener());
}

std::optional<IpEndpoint> ToEndpoint(const SocketAddress& address) {
  return ParseIpLiteral(address.host, address.port);
}

// ThreadPoolSize is the size of libuv's pool as libuv reads it: UV_THREADPOOL_SIZE, 4 when
// unset or 0, at most 1024.
unsigned ThreadPoolSize() {
  const char* value = std::getenv("UV_THREADPOOL_SIZE");
  const unsigned long size = value == nullptr ? 0 : std::strtoul(value, nullptr, 10);
  if (size == 0) return 4;
  return static_cast<unsigned>(std::min<unsigned long>(size, 1024));
}

}  // namespace

Server::Server(Config config)
    : config_(std::move(config)),
      rng_(std::random_device{}()),
      guard_(config_.policy.allowed_networks, config_.policy.denied_networks),
      policy_(config_.policy),
      password_verifier_(
          loop_, config_.auth.max_checks_running, config_.auth.max_checks_waiting,
          [this](uint32_t running, size_t waiting) { auth_metrics_.OnChecks(running, waiting); }),
      auth_failures_(config_.auth.max_failures, std::chrono::seconds(config_.auth.failure_window_s),
                     kMaxFailingAddresses),
      verified_credentials_(std::chrono::seconds(config_.auth.cache_ttl_s),
                            kMaxVerifiedCredentials),
      auth_services_{loop_,          config_.auth,          password_verifier_,
                     auth_failures_, verified_credentials_, auth_metrics_},
      drain_deadline_(loop_, [this] {
        spdlog::info("drain deadline reached; closing {} sessions", sessions_.size());
        for (Session* session : std::set<Session*>(sessions_)) session->Abort();
        MaybeStopLoop();
      }) {}

Server::~Server() {
  for (Session* session : std::set<Session*>(sessions_)) session->Abort();
  sessions_.clear();
  admin_.reset();
  listeners_.clear();
  delegations_.reset();
  authenticators_.clear();
  client_tls_.clear();
  sigterm_.Close();
  sigint_.Close();
  sighup_.Close();
  drain_deadline_.Stop();
}

Status Server::Start() {
  auto discovery =
      TlsClientContext::Create(config_.discovery.ca_file, TlsVersion::kTls12, "http/1.1");
  if (!discovery.ok()) return discovery.status();
  discovery_tls_.emplace(std::move(discovery).value());
  auto upstream =
      TlsClientContext::Create(config_.upstream.ca_file, config_.upstream.min_tls_version);
  if (!upstream.ok()) return upstream.status();
  upstream_tls_.emplace(std::move(upstream).value());

  resolver_ = std::make_unique<DnsResolver>(loop_, config_.dns.hosts, config_.dns.timeout_ms);
  delegations_ = std::make_unique<DelegationCache>(
      loop_, *resolver_, guard_, discovery_tls_->get(), config_.discovery,
      ConnectTimeouts{config_.upstream.connect_timeout_ms, config_.upstream.handshake_timeout_ms},
      cache_metrics_);
  services_ = std::make_unique<SessionServices>(
      SessionServices{loop_, config_, *delegations_, *resolver_, guard_, policy_,
                      upstream_tls_->get(), metrics_, rng_});

  // Every decision a rule can make shows in /metrics from the start, at zero.
  for (const PolicyRule& rule : config_.policy.rules) {
    metrics_.PolicyDecisions(rule.name, ActionName(rule.action));
  }
  metrics_.PolicyDecisions(kDefaultRule, ActionName(policy_.default_action()));
  if (Status users = LoadUsersFiles(); !users.ok()) return users;
  if (Status tls = LoadListenerTls(); !tls.ok()) return tls;

  for (const ListenerConfig& listener : config_.listeners) {
    auto endpoint = ToEndpoint(listener.address);
    if (!endpoint) {
      return Status(ErrorCode::kInvalidConfig,
                    "listener " + listener.name + ": bad address " + listener.address.ToString());
    }
    auto slot = std::make_unique<Listener>(loop_, [this, &listener](std::unique_ptr<TcpStream> c) {
      OnAccept(listener, std::move(c));
    });
    Status bound = slot->Bind(*endpoint);
    if (!bound.ok())
      return Status(bound.code(), "listener " + listener.name + ": " + bound.message());
    AnnounceListening(listener.name, slot->local_endpoint());
    metrics_.Connections(listener.name);
    metrics_.ActiveConnections(listener.name);
    listeners_.push_back(ListenerSlot{&listener, std::move(slot)});
  }
  if (config_.admin.address) {
    auto endpoint = ToEndpoint(*config_.admin.address);
    if (!endpoint) return Status(ErrorCode::kInvalidConfig, "admin: bad address");
    admin_ = std::make_unique<AdminServer>(loop_, metrics_, [this] { return !shutting_down_; });
    Status bound = admin_->Bind(*endpoint);
    if (!bound.ok()) return Status(bound.code(), "admin: " + bound.message());
    AnnounceListening("admin", admin_->local_endpoint());
  }

  for (auto* signal : {&sigterm_, &sigint_, &sighup_}) {
    signal->Init([this](uv_signal_t* h) { return uv_signal_init(loop_.get(), h); }, this);
  }
  auto shut_down = [](uv_signal_t* h, int signum) {
    spdlog::info("received {}; shutting down", strsignal(signum));
    if (auto* self = OwnerOf<Server>(h)) self->BeginShutdown();
  };
  uv_signal_start(sigterm_.get(), shut_down, SIGTERM);
  uv_signal_start(sigint_.get(), shut_down, SIGINT);
  // A SIGHUP from a terminal or a reload request must not kill running tunnels.
  uv_signal_start(
      sighup_.get(),
      [](uv_signal_t* h, int) {
        spdlog::info(
            "received SIGHUP: re-reading users files and listener certificates (the rest of "
            "the configuration is read only at start)");
        if (auto* self = OwnerOf<Server>(h)) {
          self->ReloadUsersFiles();
          self->ReloadListenerTls();
        }
      },
      SIGHUP);
  FitConnectionsToDescriptors();
  spdlog::info("deputy {} started with {} listener(s)", DEPUTY_VERSION, listeners_.size());
  return Status::Ok();
}

Status Server::LoadUsersFiles() {
  // Password checks and name resolution share libuv's pool: checks holding every thread
  // would leave each DNS lookup waiting for a hash.
  const unsigned pool = ThreadPoolSize();
  if (std::any_of(config_.listeners.begin(), config_.listeners.end(),
                  [](const ListenerConfig& l) { return l.auth.has_value(); }) &&
      config_.auth.max_checks_running >= pool) {
    spdlog::warn(
        "auth.max_checks_running is {}, but libuv's thread pool has {} threads "
        "(UV_THREADPOOL_SIZE), which name resolution shares: password checks can hold them "
        "all; keep it below the pool size",
        config_.auth.max_checks_running, pool);
  }
  for (const ListenerConfig& listener : config_.listeners) {
    if (!listener.auth) continue;
    auth_metrics_.Register(listener.name);
    auto authenticator =
        std::make_unique<ProxyAuthenticator>(auth_services_, listener.name, *listener.auth);
    if (Status loaded = authenticator->Load(); !loaded.ok()) {
      return Status(loaded.code(), "listener " + listener.name + ": " + loaded.message());
    }
    WarnIfMixedHashes(*authenticator);
    authenticators_[&listener] = std::move(authenticator);
  }
  return Status::Ok();
}

void Server::ReloadUsersFiles() {
  for (const auto& [listener, authenticator] : authenticators_) {
    if (Status loaded = authenticator->Load(); !loaded.ok()) {
      spdlog::error("listener {}: users file not reloaded, the users read before stay: {}",
                    listener->name, loaded.message());
    } else {
      spdlog::info("listener {}: users file reloaded, {} users", listener->name,
                   authenticator->users());
      WarnIfMixedHashes(*authenticator);
    }
  }
}

Result<TlsServerContext> Server::LoadTls(const ListenerConfig& listener) {
  Result<TlsServerContext> context = TlsServerContext::Create(*listener.tls);
  metrics_.ListenerTlsLoads(listener.name, context.ok() ? "ok" : "error").Increment();
  if (!context.ok()) return context;
  if (context->not_after() == 0) return context;  // unreadable: neither a gauge nor a warning
  metrics_.ListenerCertificateExpiry(listener.name).Set(static_cast<double>(context->not_after()));
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  if (context->not_after() <= now) {
    spdlog::warn("listener {}: the certificate in {} has expired; clients will refuse it",
                 listener.name, listener.tls->cert_file);
  }
  return context;
}

Status Server::LoadListenerTls() {
  for (const ListenerConfig& listener : config_.listeners) {
    if (!listener.tls) continue;
    metrics_.ListenerTlsLoads(listener.name, "ok");
    metrics_.ListenerTlsLoads(listener.name, "error");
    for (std::string_view result : {"ok", "ok_with_client_cert", "error"}) {
      metrics_.ClientTlsHandshakes(listener.name, result);
    }
    Result<TlsServerContext> context = LoadTls(listener);
    if (!context.ok()) {
      return Status(context.status().code(),
                    "listener " + listener.name + ": " + context.status().message());
    }
    client_tls_.insert_or_assign(&listener, std::move(context).value());
  }
  return Status::Ok();
}

void Server::ReloadListenerTls() {
  for (auto& [listener, context] : client_tls_) {
    Result<TlsServerContext> reloaded = LoadTls(*listener);
    if (!reloaded.ok()) {
      spdlog::error("listener {}: TLS certificate not reloaded, the one loaded before stays: {}",
                    listener->name, reloaded.status().message());
      continue;
    }
    // Connections hold their own reference to the old context, so none of them is touched.
    context = std::move(reloaded).value();
    spdlog::info("listener {}: TLS certificate reloaded from {}", listener->name,
                 listener->tls->cert_file);
  }
}

void Server::FitConnectionsToDescriptors() {
  const DescriptorLimit limit = RaiseDescriptorLimit();
  if (!limit.error.empty()) spdlog::warn("open-file limit: {}", limit.error);
  if (limit.soft > limit.soft_before) {
    spdlog::info("raised the open-file limit from {} to {}", limit.soft_before, limit.soft);
  }
  // Counted once the listeners are bound, so their descriptors are not counted twice.
  const uint64_t open = OpenDescriptorCount();
  if (open == 0) spdlog::warn("cannot count open descriptors (/proc/self/fd); assuming none");
  const uint64_t fitted = limit.soft == 0 ? std::numeric_limits<uint32_t>::max()
                                          : ConnectionsWithinLimit(limit.soft, open);
  const uint32_t fitted32 =
      static_cast<uint32_t>(std::min<uint64_t>(fitted, std::numeric_limits<uint32_t>::max()));
  if (config_.limits.max_connections) {
    max_connections_ = *config_.limits.max_connections;
    if (max_connections_ > fitted32) {
      spdlog::warn(
          "limits.max_connections is {}, but {} open files leave room for {} connections; past "
          "that, upstream connects and fetches fail for want of descriptors",
          max_connections_, limit.soft, fitted32);
    }
  } else {
    max_connections_ = fitted32;
    spdlog::info("serving at most {} client connections ({} open files)", max_connections_,
                 limit.soft);
  }
  metrics_.MaxConnections().Set(max_connections_);
}

void Server::Run() {
  loop_.Run();
  spdlog::info("deputy stopped");
}

void Server::OnAccept(const ListenerConfig& listener, std::unique_ptr<TcpStream> client) {
  if (shutting_down_) return;
  if (sessions_.size() >= max_connections_) {
    // Refused like a listener's own limit, before descriptors run out for the clients served.
    metrics_.Tunnels(listener.name, Describe(ErrorCode::kConnectionLimit).label).Increment();
    WarnLimited("connection over the connection limit",
                "{} client connections open on all listeners (the limit, {}), refusing another "
                "on {}",
                sessions_.size(), max_connections_, listener.name);
    return;
  }
  uint32_t& open = open_per_listener_[&listener];
  if (open >= listener.max_connections) {
    // Closing at once is cheaper than answering; the client sees a reset and can retry.
    metrics_.Tunnels(listener.name, Describe(ErrorCode::kConnectionLimit).label).Increment();
    WarnLimited("connection over max_connections",
                "listener {}: {} connections open, refusing another", listener.name, open);
    return;
  }
  ++open;
  std::unique_ptr<Frontend> frontend;
  const auto found = authenticators_.find(&listener);
  ProxyAuthenticator* authenticator =
      found == authenticators_.end() ? nullptr : found->second.get();
  if (listener.type == ListenerType::kConnect) {
    frontend = std::make_unique<ConnectFrontend>(loop_, listener, config_, authenticator);
  } else if (listener.type == ListenerType::kSocks5) {
    frontend = std::make_unique<Socks5Frontend>(loop_, listener, config_, authenticator);
  } else {
    Destination destination{listener.domain, listener.service, listener.port};
    if (!destination.port) destination.port = PortForService(listener.service, config_);
    frontend = std::make_unique<FixedFrontend>(loop_, std::move(destination));
  }
  bssl::UniquePtr<SSL_CTX> client_tls;
  if (const auto tls = client_tls_.find(&listener); tls != client_tls_.end()) {
    client_tls = tls->second.Share();
  }
  auto* session = new Session(*services_, listener, std::move(client), std::move(client_tls),
                              std::move(frontend), [this, &listener](Session* s) {
                                --open_per_listener_[&listener];
                                OnSessionFinished(s);
                              });
  sessions_.insert(session);
  session->Start();
}

void Server::OnSessionFinished(Session* session) {
  if (sessions_.erase(session) == 0) return;
  loop_.DeferDelete(std::unique_ptr<Deferrable>(session));
  if (shutting_down_) MaybeStopLoop();
}

void Server::BeginShutdown() {
  if (shutting_down_) {
    // A second signal: stop waiting.
    for (Session* session : std::set<Session*>(sessions_)) session->Abort();
    MaybeStopLoop();
    return;
  }
  shutting_down_ = true;
  for (ListenerSlot& slot : listeners_) slot.listener->Stop();
  // The admin listener stays up while draining so /healthz can say 503 to load balancers.
  drain_deadline_.Start(kDrainMs);
  MaybeStopLoop();
}

void Server::MaybeStopLoop() {
  if (!sessions_.empty()) return;
  drain_deadline_.Stop();
  loop_.Stop();
}

}  // namespace deputy
