#include "server/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/cpu_count.h"
#include "base/descriptor_budget.h"
#include "config/config_loader.h"
#include "config/config_names.h"
#include "log/warning_limiter.h"

namespace deputy {

namespace {

// How long running tunnels may finish on their own after SIGTERM before they are cut.
constexpr uint64_t kDrainMs = 5000;
// Client addresses with recent authentication failures, and verified credentials, remembered.
constexpr size_t kMaxFailingAddresses = 65536;
constexpr size_t kMaxVerifiedCredentials = 16384;

// How long a reload waits for the workers to apply it.
constexpr std::chrono::milliseconds kApplyTimeout(5000);

// WorkersApplying counts down the workers still applying a reload.
class WorkersApplying {
 public:
  explicit WorkersApplying(size_t workers) : left_(workers) {}
  void Done() {
    std::lock_guard lock(mutex_);
    if (--left_ == 0) all_done_.notify_all();
  }
  bool Wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return all_done_.wait_for(lock, timeout, [this] { return left_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable all_done_;
  size_t left_;
};

void AnnounceListening(const std::string& name, const IpEndpoint& endpoint) {
  nlohmann::json line = {
      {"event", "listening"}, {"listener", name}, {"address", endpoint.ToString()}};
  std::string text = line.dump() + "\n";
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

std::optional<IpEndpoint> ToEndpoint(const SocketAddress& address) {
  return ParseIpLiteral(address.host, address.port);
}

double SecondsSinceEpoch() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Names joins `names` with commas, or says "none".
std::string Names(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string joined;
  for (const std::string& name : names) joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

// WarnRestartOnly names the settings a reload changed that only a restart applies.
void WarnRestartOnly(const Config& running, const Config& read) {
  std::vector<std::string> changed;
  if (read.workers != running.workers) changed.push_back("workers");
  if (read.limits != running.limits) changed.push_back("limits");
  if (read.auth != running.auth) changed.push_back("auth");
  if (read.admin != running.admin) changed.push_back("admin");
  if (changed.empty()) return;
  spdlog::warn("reload: {} changed, which only a restart applies; the values read at start stay",
               Names(changed));
}

}  // namespace

Server::Server(Config config, std::string config_path, ProcessLogs* logs)
    : startup_(std::move(config)),
      config_path_(std::move(config_path)),
      logs_(logs),
      auth_failures_(startup_.auth.max_failures,
                     std::chrono::seconds(startup_.auth.failure_window_s), kMaxFailingAddresses),
      verified_credentials_(std::chrono::seconds(startup_.auth.cache_ttl_s),
                            kMaxVerifiedCredentials),
      password_verifier_(
          startup_.auth.max_checks_running, startup_.auth.max_checks_waiting,
          [this](uint32_t running, size_t waiting) { auth_metrics_.OnChecks(running, waiting); }) {}

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
  sigusr1_.Close();
}

Status Server::Start() {
  // First: a signal is handled once Run turns the main loop, but it must find its handler
  // installed from the moment a listener is announced, or SIGHUP's default would end deputy.
  for (auto* signal : {&sigterm_, &sigint_, &sighup_, &sigusr1_}) {
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
        if (auto* self = OwnerOf<Server>(h)) {
          spdlog::info("received SIGHUP: reloading {}", self->config_path_);
          // A reload that applied opened the access log afresh; one that failed still must,
          // or a rotation would leave deputy writing to the moved file.
          if (!self->Reload().ok()) self->ReopenAccessLog();
        }
      },
      SIGHUP);
  uv_signal_start(
      sigusr1_.get(),
      [](uv_signal_t* h, int) {
        if (auto* self = OwnerOf<Server>(h)) self->ReopenAccessLog();
      },
      SIGUSR1);
  const unsigned worker_count = startup_.workers.value_or(UsableCpuCount());
  Result<UniqueFd> access_log = OpenAccessLog(startup_);
  if (!access_log.ok()) return access_log.status();
  UseLogs(startup_, std::move(access_log).value());
  auto loaded = ConfigGeneration::Load(startup_, 1, LoadServices());
  if (!loaded.ok()) return loaded.status();
  current_ = std::move(loaded).value();
  delegations_ = std::make_unique<DelegationCache>(current_->discovery(), cache_metrics_);
  process_ = std::make_unique<ProcessServices>(
      ProcessServices{metrics_, auth_metrics_, startup_.auth, *delegations_, password_verifier_,
                      auth_failures_, verified_credentials_, slots_, dns_metrics_});
  for (unsigned i = 0; i < worker_count; ++i) {
    workers_.push_back(std::make_unique<Worker>(
        i, *process_, current_, [this](unsigned) { loop_.Post([this] { OnWorkerStopped(); }); }));
    if (!workers_.back()->ResolverStatus().ok()) return workers_.back()->ResolverStatus();
  }
  std::vector<Opened> opened;
  Result<std::vector<Worker::Sockets>> sockets = OpenSockets(*current_, &opened);
  if (!sockets.ok()) return sockets.status();
  Register(*current_);
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->Apply(current_, std::move((*sockets)[i]));
  }
  for (const Opened& listener : opened) AnnounceListening(listener.listener, listener.address);
  metrics_.ConfigLastReloadSuccess().Set(1);
  metrics_.ConfigLastReloadSuccessTime().Set(SecondsSinceEpoch());

  if (startup_.admin.address) {
    auto endpoint = ToEndpoint(*startup_.admin.address);
    if (!endpoint) return Status(ErrorCode::kInvalidConfig, "admin: bad address");
    std::string token;
    if (!startup_.admin.token_file.empty()) {
      Result<std::string> read = ReadAdminToken(startup_.admin.token_file);
      if (!read.ok()) return read.status();
      token = std::move(read).value();
    }
    admin_api_ = std::make_unique<ServerAdmin>(
        current_, *delegations_, metrics_, [this] { return shutting_down_; },
        [this] { BeginShutdown(); }, [this] { return Reload(); });
    admin_ = std::make_unique<AdminServer>(loop_, metrics_, *admin_api_, std::move(token));
    Status bound = admin_->Bind(*endpoint);
    if (!bound.ok()) return Status(bound.code(), "admin: " + bound.message());
    AnnounceListening("admin", admin_->local_endpoint());
  }

  FitConnectionsToDescriptors();
  for (std::unique_ptr<Worker>& worker : workers_) {
    worker->Start();
    ++workers_started_;
  }
  spdlog::info("deputy {} started with {} listener(s) on {} worker(s)", DEPUTY_VERSION,
               current_->listeners().size(), workers_.size());
  return Status::Ok();
}

Result<std::vector<Worker::Sockets>> Server::OpenSockets(const ConfigGeneration& generation,
                                                         std::vector<Opened>* opened) {
  std::vector<Worker::Sockets> sockets(workers_.size());
  std::map<std::string, IpEndpoint> bound;
  std::map<std::string, std::string> owner;  // socket key -> listener
  // One worker keeps the address exclusive: a second deputy on the same port fails to start.
  const bool share_port = workers_.size() > 1;
  for (const ConfigGeneration::Listener& listener : generation.listeners()) {
    const ListenerConfig& config = *listener.config;
    const std::string& key = listener.socket_key;
    if (auto other = owner.find(key); other != owner.end()) {
      return Status(ErrorCode::kInvalidConfig, "listener " + config.name + ": address " +
                                                   config.address.ToString() + " is listener " +
                                                   other->second + "'s too");
    }
    owner[key] = config.name;
    if (auto kept = sockets_.find(key); kept != sockets_.end()) {
      bound.insert(*kept);
      continue;
    }
    std::optional<IpEndpoint> endpoint = ToEndpoint(config.address);
    if (!endpoint) {
      return Status(ErrorCode::kInvalidConfig,
                    "listener " + config.name + ": bad address " + config.address.ToString());
    }
    // The first worker's socket resolves port 0; the others bind what it got.
    for (size_t worker = 0; worker < workers_.size(); ++worker) {
      Result<Listener::ListeningSocket> socket = Listener::Open(*endpoint, share_port);
      if (!socket.ok()) {
        return Status(socket.status().code(),
                      "listener " + config.name + ": " + socket.status().message());
      }
      if (worker == 0) endpoint = socket->local;
      sockets[worker].emplace(key, std::move(socket).value());
    }
    bound[key] = *endpoint;
    opened->push_back({config.name, *endpoint});
  }
  sockets_ = std::move(bound);
  return sockets;
}

void Server::Register(const ConfigGeneration& generation) {
  generation.Publish(metrics_, auth_metrics_);
  for (const ConfigGeneration::Listener& listener : generation.listeners()) {
    metrics_.AddListener(listener.config->name);
  }
  // Every decision a rule can make shows in /metrics from the start, at zero.
  for (const PolicyRule& rule : generation.config().policy.rules) {
    metrics_.PolicyDecisions(rule.name, NameOf(kPolicyActionNames, rule.action));
  }
  metrics_.PolicyDecisions(kDefaultRule,
                           NameOf(kPolicyActionNames, generation.policy().default_action()));
}

Status Server::Reload() {
  if (shutting_down_) {
    return ReloadFailed(Status(ErrorCode::kInvalidConfig, "deputy is draining"));
  }
  Result<Config> read = LoadConfig(config_path_);
  if (!read.ok()) return ReloadFailed(read.status());
  WarnRestartOnly(startup_, *read);
  // What applies only at restart stays as read at start, in the generation too, so that
  // /debug/config shows what is in force.
  read->workers = startup_.workers;
  read->limits = startup_.limits;
  read->auth = startup_.auth;
  read->admin = startup_.admin;
  auto loaded =
      ConfigGeneration::Load(std::move(read).value(), current_->number() + 1, LoadServices());
  if (!loaded.ok()) return ReloadFailed(loaded.status());
  std::shared_ptr<const ConfigGeneration> next = std::move(loaded).value();
  Result<UniqueFd> access_log = OpenAccessLog(next->config());
  if (!access_log.ok()) return ReloadFailed(access_log.status());
  std::vector<Opened> opened;
  Result<std::vector<Worker::Sockets>> sockets = OpenSockets(*next, &opened);
  if (!sockets.ok()) return ReloadFailed(sockets.status());

  // From here on nothing fails: the new generation applies everywhere.
  UseLogs(next->config(), std::move(access_log).value());
  Register(*next);
  const bool flushed = delegations_->Reconfigure(next->discovery());
  // Waited for, so that once a reload is answered or counted, every worker serves the new
  // configuration and removed addresses refuse. Workers never block, so this is short.
  auto pending = std::make_shared<WorkersApplying>(workers_.size());
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_[i]->Apply(next, std::move((*sockets)[i]), [pending] { pending->Done(); });
  }
  if (!pending->Wait(kApplyTimeout)) {
    spdlog::warn("reload: not every worker has applied configuration {} after {} ms",
                 next->number(), kApplyTimeout.count());
  }
  for (const Opened& listener : opened) AnnounceListening(listener.listener, listener.address);
  std::vector<std::string> added, removed, rebound;
  for (const ConfigGeneration::Listener& listener : next->listeners()) {
    const ConfigGeneration::Listener* before = current_->Find(listener.config->name);
    if (before == nullptr) {
      added.push_back(listener.config->name);
      // A new name on an address kept from another listener has no new socket to announce.
      const bool announced = std::any_of(opened.begin(), opened.end(), [&](const Opened& o) {
        return o.listener == listener.config->name;
      });
      if (!announced) AnnounceListening(listener.config->name, sockets_.at(listener.socket_key));
    } else if (before->socket_key != listener.socket_key) {
      rebound.push_back(listener.config->name);
    }
  }
  for (const ConfigGeneration::Listener& listener : current_->listeners()) {
    if (next->Find(listener.config->name) == nullptr) removed.push_back(listener.config->name);
  }
  spdlog::info(
      "reloaded {} (configuration {}): listeners added: {}; removed: {}; moved to a new "
      "address: {}; {}",
      config_path_, next->number(), Names(added), Names(removed), Names(rebound),
      flushed ? "delegation cache flushed (new url_template or trust anchors)"
              : "delegation cache kept");
  current_ = std::move(next);
  metrics_.ConfigReloads("ok").Increment();
  metrics_.ConfigLastReloadSuccess().Set(1);
  metrics_.ConfigLastReloadSuccessTime().Set(SecondsSinceEpoch());
  return Status::Ok();
}

Result<UniqueFd> Server::OpenAccessLog(const Config& config) const {
  if (logs_ == nullptr || config.access_log.path.empty()) return UniqueFd();
  return ProcessLogs::OpenAccessLogFile(config.access_log.path);
}

void Server::UseLogs(const Config& config, UniqueFd access_log) {
  if (logs_ == nullptr) return;
  logs_->SetDiagnostics(config.log.level, config.log.format);
  logs_->UseAccessLog(std::move(access_log));
}

void Server::ReopenAccessLog() {
  const std::string& path = current_->config().access_log.path;
  if (logs_ == nullptr || path.empty()) return;  // stdout: nothing to re-open
  Result<UniqueFd> reopened = ProcessLogs::OpenAccessLogFile(path);
  if (!reopened.ok()) {
    spdlog::error("access log not re-opened, still writing where it did: {}",
                  reopened.status().message());
    return;
  }
  logs_->UseAccessLog(std::move(reopened).value());
  spdlog::info("access log re-opened: {}", path);
}

Status Server::ReloadFailed(Status status) {
  metrics_.ConfigReloads("error").Increment();
  metrics_.ConfigLastReloadSuccess().Set(0);
  spdlog::error("reload of {} failed; configuration {} stays in force: {}", config_path_,
                current_->number(), status.message());
  return status;
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
  if (startup_.limits.max_connections) {
    max_connections = *startup_.limits.max_connections;
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
