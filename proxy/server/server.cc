#include "server/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "base/cpu_count.h"
#include "base/descriptor_budget.h"
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

void WarnIfMixedHashes(const SharedUsers& users) {
  if (!users.Get()->MixedSettings()) return;
  spdlog::warn(
      "listener {}: the users file mixes hash methods or costs, so a wrong user name can take "
      "another time to refuse than a wrong password; rehash every user alike",
      users.listener());
}

std::optional<IpEndpoint> ToEndpoint(const SocketAddress& address) {
  return ParseIpLiteral(address.host, address.port);
}

}  // namespace

Server::Server(Config config)
    : config_(std::move(config)),
      guard_(config_.policy.allowed_networks, config_.policy.denied_networks),
      policy_(config_.policy),
      auth_failures_(config_.auth.max_failures, std::chrono::seconds(config_.auth.failure_window_s),
                     kMaxFailingAddresses),
      verified_credentials_(std::chrono::seconds(config_.auth.cache_ttl_s),
                            kMaxVerifiedCredentials),
      password_verifier_(
          config_.auth.max_checks_running, config_.auth.max_checks_waiting,
          [this](uint32_t running, size_t waiting) { auth_metrics_.OnChecks(running, waiting); }),
      slots_(config_.listeners.size()) {}

Server::~Server() {
  // Workers that run are stopped and joined first: they use everything else here. Every thread
  // is joined before any worker is destroyed, since a running one may still post to another's
  // loop (a fetch's answer to its waiters).
  for (size_t i = 0; i < workers_started_; ++i) workers_[i]->Abort();
  for (std::unique_ptr<Worker>& worker : workers_) worker->Join();
  workers_.clear();
  admin_.reset();
  sigterm_.Close();
  sigint_.Close();
  sighup_.Close();
}

Status Server::Start() {
  worker_count_ = config_.workers.value_or(UsableCpuCount());
  auto discovery =
      TlsClientContext::Create(config_.discovery.ca_file, TlsVersion::kTls12, "http/1.1");
  if (!discovery.ok()) return discovery.status();
  discovery_tls_.emplace(std::move(discovery).value());
  auto upstream =
      TlsClientContext::Create(config_.upstream.ca_file, config_.upstream.min_tls_version);
  if (!upstream.ok()) return upstream.status();
  upstream_tls_.emplace(std::move(upstream).value());

  delegations_ = std::make_unique<DelegationCache>(
      guard_, discovery_tls_->get(), config_.discovery,
      ConnectTimeouts{config_.upstream.connect_timeout_ms, config_.upstream.handshake_timeout_ms},
      cache_metrics_);

  // Every decision a rule can make shows in /metrics from the start, at zero.
  for (const PolicyRule& rule : config_.policy.rules) {
    metrics_.PolicyDecisions(rule.name, ActionName(rule.action));
  }
  metrics_.PolicyDecisions(kDefaultRule, ActionName(policy_.default_action()));
  if (Status users = LoadUsersFiles(); !users.ok()) return users;
  if (Status tls = LoadListenerTls(); !tls.ok()) return tls;
  process_ = std::make_unique<ProcessServices>(ProcessServices{
      config_, metrics_, auth_metrics_, guard_, policy_, upstream_tls_->get(), *delegations_,
      password_verifier_, auth_failures_, verified_credentials_, users_, listener_tls_, slots_});
  if (Status bound = BindWorkers(); !bound.ok()) return bound;

  if (config_.admin.address) {
    auto endpoint = ToEndpoint(*config_.admin.address);
    if (!endpoint) return Status(ErrorCode::kInvalidConfig, "admin: bad address");
    std::string token;
    if (!config_.admin.token_file.empty()) {
      Result<std::string> read = ReadAdminToken(config_.admin.token_file);
      if (!read.ok()) return read.status();
      token = std::move(read).value();
    }
    admin_api_ = std::make_unique<ServerAdmin>(
        config_, *delegations_, metrics_, [this] { return shutting_down_; },
        [this] { BeginShutdown(); });
    admin_ = std::make_unique<AdminServer>(loop_, metrics_, *admin_api_, std::move(token));
    Status bound = admin_->Bind(*endpoint);
    if (!bound.ok()) return Status(bound.code(), "admin: " + bound.message());
    AnnounceListening("admin", admin_->local_endpoint());
  }

  for (auto* signal : {&sigterm_, &sigint_, &sighup_}) {
    signal->Init([this](uv_signal_t* h) { return uv_signal_init(loop_.get(), h); }, this);
  }
  auto shut_down = [](uv_signal_t* h, int signum) {
    // Logged once every worker refuses new clients: whoever reads the line may rely on it.
    if (auto* self = OwnerOf<Server>(h)) self->BeginShutdown();
    spdlog::info("received {}; shutting down", strsignal(signum));
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
  for (std::unique_ptr<Worker>& worker : workers_) {
    worker->Start();
    ++workers_started_;
  }
  spdlog::info("deputy {} started with {} listener(s) on {} worker(s)", DEPUTY_VERSION,
               config_.listeners.size(), workers_.size());
  return Status::Ok();
}

Status Server::BindWorkers() {
  std::vector<IpEndpoint> endpoints;
  for (const ListenerConfig& listener : config_.listeners) {
    auto endpoint = ToEndpoint(listener.address);
    if (!endpoint) {
      return Status(ErrorCode::kInvalidConfig,
                    "listener " + listener.name + ": bad address " + listener.address.ToString());
    }
    endpoints.push_back(*endpoint);
    metrics_.AddListener(listener.name);
  }
  const unsigned count = worker_count_;
  // One worker keeps the address exclusive: a second deputy on the same port fails to start.
  const bool share_port = count > 1;
  for (unsigned i = 0; i < count; ++i) {
    auto worker = std::make_unique<Worker>(
        i, *process_, [this](unsigned) { loop_.Post([this] { OnWorkerStopped(); }); });
    // The first worker resolves port 0; the others bind what it got.
    Result<std::vector<IpEndpoint>> bound = worker->Bind(endpoints, share_port);
    if (!bound.ok()) return bound.status();
    if (i == 0) {
      endpoints = *bound;
      for (size_t l = 0; l < endpoints.size(); ++l) {
        AnnounceListening(config_.listeners[l].name, endpoints[l]);
      }
    }
    workers_.push_back(std::move(worker));
  }
  return Status::Ok();
}

Status Server::LoadUsersFiles() {
  for (const ListenerConfig& listener : config_.listeners) {
    if (!listener.auth) continue;
    auth_metrics_.Register(listener.name);
    auto users =
        std::make_unique<SharedUsers>(listener.name, listener.auth->users_file, auth_metrics_);
    if (Status loaded = users->Load(); !loaded.ok()) {
      return Status(loaded.code(), "listener " + listener.name + ": " + loaded.message());
    }
    WarnIfMixedHashes(*users);
    users_[&listener] = std::move(users);
  }
  return Status::Ok();
}

void Server::ReloadUsersFiles() {
  for (const auto& [listener, users] : users_) {
    if (Status loaded = users->Load(); !loaded.ok()) {
      spdlog::error("listener {}: users file not reloaded, the users read before stay: {}",
                    listener->name, loaded.message());
    } else {
      spdlog::info("listener {}: users file reloaded, {} users", listener->name,
                   users->Get()->size());
      WarnIfMixedHashes(*users);
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
    listener_tls_.Set(listener, std::move(context).value());
  }
  return Status::Ok();
}

void Server::ReloadListenerTls() {
  for (const ListenerConfig& listener : config_.listeners) {
    if (!listener.tls) continue;
    Result<TlsServerContext> reloaded = LoadTls(listener);
    if (!reloaded.ok()) {
      spdlog::error("listener {}: TLS certificate not reloaded, the one loaded before stays: {}",
                    listener.name, reloaded.status().message());
      continue;
    }
    // Connections hold their own reference to the old context, so none of them is touched.
    listener_tls_.Set(listener, std::move(reloaded).value());
    spdlog::info("listener {}: TLS certificate reloaded from {}", listener.name,
                 listener.tls->cert_file);
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
  uint32_t max_connections = fitted32;
  if (config_.limits.max_connections) {
    max_connections = *config_.limits.max_connections;
    if (max_connections > fitted32) {
      spdlog::warn(
          "limits.max_connections is {}, but {} open files leave room for {} connections; past "
          "that, upstream connects and fetches fail for want of descriptors",
          max_connections, limit.soft, fitted32);
    }
  } else {
    spdlog::info("serving at most {} client connections ({} open files)", max_connections,
                 limit.soft);
  }
  slots_.SetProcessLimit(max_connections);
  metrics_.MaxConnections().Set(max_connections);
}

void Server::Run() {
  loop_.Run();
  spdlog::info("deputy stopped");
}

void Server::BeginShutdown() {
  if (shutting_down_) {
    // A second signal: stop waiting.
    for (std::unique_ptr<Worker>& worker : workers_) worker->Abort();
    return;
  }
  shutting_down_ = true;
  // The admin listener stays up while draining so /healthz can say 503 to load balancers.
  for (std::unique_ptr<Worker>& worker : workers_) worker->Drain(kDrainMs);
}

void Server::OnWorkerStopped() {
  if (++workers_stopped_ == workers_.size()) loop_.Stop();
}

}  // namespace deputy
