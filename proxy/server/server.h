#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "admin/admin_server.h"
#include "admin/auth_metrics.h"
#include "admin/cache_metrics.h"
#include "admin/dns_metrics.h"
#include "admin/metrics.h"
#include "auth/credential_cache.h"
#include "auth/failure_limiter.h"
#include "auth/password_verifier.h"
#include "config/config.h"
#include "delegation/delegation_cache.h"
#include "log/process_logs.h"
#include "loop/event_loop.h"
#include "server/config_generation.h"
#include "server/connection_slots.h"
#include "server/server_admin.h"
#include "server/worker.h"

namespace deputy {

// Server runs one configuration after another as a proxy: the main thread's loop has the
// signals, the admin endpoint and reloads; `workers` loops, one thread each, accept and serve
// the sessions. Everything the workers share whatever the configuration (the delegation cache,
// the connection counts, authentication bounds and metrics) is made here and outlives them.
class Server {
 public:
  // `config_path` is the file a reload (SIGHUP, POST /reload) reads again; `config` is what it
  // held at start. workers, limits, auth and admin are read at start only. `logs`, when given,
  // gets the log settings and the access log file, and re-opens that on SIGUSR1 and SIGHUP.
  Server(Config config, std::string config_path, ProcessLogs* logs = nullptr);
  ~Server();

  // Start loads the configuration's files (users, certificates, trust anchors), binds every
  // listener on every worker, announcing each on stderr as a JSON line
  // {"event":"listening","listener":NAME,"address":"IP:PORT"}, and starts the workers.
  Status Start();
  // Run serves until SIGINT or SIGTERM, then drains sessions for up to drain_ms.
  void Run();

  // Reload reads config_path again and applies it to new sessions, all of it or, on any error,
  // none (the running configuration stays and the error is returned). Main thread only.
  Status Reload();

 private:
  // A listener whose socket is new in a generation: announced once the generation applies.
  struct Opened {
    std::string listener;
    IpEndpoint address;
  };
  // OpenSockets opens, for every worker, the sockets `generation` needs and has none yet, and
  // returns them by worker; it changes nothing if any fails.
  Result<std::vector<Worker::Sockets>> OpenSockets(const ConfigGeneration& generation,
                                                   std::vector<Opened>* opened);
  // Register makes the series of `generation`'s listeners and rules, at zero until used.
  void Register(const ConfigGeneration& generation);
  ConfigGeneration::Services LoadServices() { return {metrics_, auth_metrics_, slots_}; }
  // FitConnectionsToDescriptors raises the open-file limit and sets the process's connection
  // limit from limits.max_connections, or from what the open-file limit leaves room for.
  void FitConnectionsToDescriptors();
  void BeginShutdown();
  void OnWorkerStopped();
  Status ReloadFailed(Status status);
  // OpenAccessLog opens `config`'s access log file (nothing when it is stdout, or without logs).
  Result<UniqueFd> OpenAccessLog(const Config& config) const;
  // UseLogs applies `config`'s log settings and `access_log` (from OpenAccessLog).
  void UseLogs(const Config& config, UniqueFd access_log);
  // ReopenAccessLog opens the access log file again (logrotate moved it): SIGUSR1 and SIGHUP.
  void ReopenAccessLog();

  const Config startup_;
  const std::string config_path_;
  ProcessLogs* const logs_;
  EventLoop loop_;
  Metrics metrics_;
  CacheMetrics cache_metrics_{metrics_};
  AuthMetrics auth_metrics_{metrics_};
  DnsMetrics dns_metrics_{metrics_};
  std::unique_ptr<DelegationCache> delegations_;
  FailureLimiter auth_failures_;
  CredentialCache verified_credentials_;
  PasswordVerifier password_verifier_;
  ConnectionSlots slots_;
  std::shared_ptr<const ConfigGeneration> current_;
  // The address every worker's socket of each key is bound to (ConfigGeneration::SocketKey).
  std::map<std::string, IpEndpoint> sockets_;
  std::unique_ptr<ProcessServices> process_;
  std::unique_ptr<ServerAdmin> admin_api_;
  std::unique_ptr<AdminServer> admin_;
  // Declared last: destroying a worker joins its thread, which uses everything above.
  std::vector<std::unique_ptr<Worker>> workers_;
  size_t workers_started_ = 0;
  size_t workers_stopped_ = 0;
  UvHandle<uv_signal_t> sigterm_;
  UvHandle<uv_signal_t> sigint_;
  UvHandle<uv_signal_t> sighup_;
  UvHandle<uv_signal_t> sigusr1_;
  bool shutting_down_ = false;
};

}  // namespace deputy
