#pragma once

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "admin/admin_server.h"
#include "admin/auth_metrics.h"
#include "admin/cache_metrics.h"
#include "admin/metrics.h"
#include "auth/credential_cache.h"
#include "auth/failure_limiter.h"
#include "auth/password_verifier.h"
#include "auth/shared_users.h"
#include "config/config.h"
#include "delegation/delegation_cache.h"
#include "loop/event_loop.h"
#include "net/destination_guard.h"
#include "policy/access_policy.h"
#include "server/connection_slots.h"
#include "server/listener_tls.h"
#include "server/server_admin.h"
#include "server/worker.h"
#include "tls/tls_context.h"
#include "tls/tls_server_context.h"

namespace deputy {

// Server wires one configuration into a running proxy: the main thread's loop has the signals
// and the admin endpoint; `workers` loops, one thread each, accept and serve the sessions.
// Everything the workers share (the delegation cache, TLS contexts, users files, limits and
// metrics) is made here and outlives them.
class Server {
 public:
  explicit Server(Config config);
  ~Server();

  // Start loads the TLS trust anchors, binds every listener on every worker, announcing each
  // on stderr as a JSON line {"event":"listening","listener":NAME,"address":"IP:PORT"}, and
  // starts the workers.
  Status Start();
  // Run serves until SIGINT or SIGTERM, then drains sessions for up to drain_ms.
  void Run();

 private:
  // LoadUsersFiles reads the users file of every listener with auth.
  Status LoadUsersFiles();
  // ReloadUsersFiles re-reads them (SIGHUP); a file that fails keeps the users read before.
  void ReloadUsersFiles();
  // LoadListenerTls creates the server context of every listener with tls.
  Status LoadListenerTls();
  // ReloadListenerTls re-creates them (SIGHUP); one that fails keeps the context before.
  void ReloadListenerTls();
  // LoadTls creates `listener`'s context and records the load in the metrics.
  Result<TlsServerContext> LoadTls(const ListenerConfig& listener);
  // BindWorkers creates the workers and binds every listener on each.
  Status BindWorkers();
  // FitConnectionsToDescriptors raises the open-file limit and sets the process's connection
  // limit from limits.max_connections, or from what the open-file limit leaves room for.
  void FitConnectionsToDescriptors();
  void BeginShutdown();
  void OnWorkerStopped();

  Config config_;
  EventLoop loop_;
  Metrics metrics_;
  CacheMetrics cache_metrics_{metrics_};
  AuthMetrics auth_metrics_{metrics_};
  DestinationGuard guard_;
  AccessPolicy policy_;
  std::optional<TlsClientContext> discovery_tls_;
  std::optional<TlsClientContext> upstream_tls_;
  std::unique_ptr<DelegationCache> delegations_;
  FailureLimiter auth_failures_;
  CredentialCache verified_credentials_;
  PasswordVerifier password_verifier_;
  std::map<const ListenerConfig*, std::unique_ptr<SharedUsers>> users_;
  ListenerTls listener_tls_;
  ConnectionSlots slots_;
  std::unique_ptr<ProcessServices> process_;
  std::unique_ptr<ServerAdmin> admin_api_;
  std::unique_ptr<AdminServer> admin_;
  // Declared last: destroying a worker joins its thread, which uses everything above.
  std::vector<std::unique_ptr<Worker>> workers_;
  unsigned worker_count_ = 1;
  size_t workers_started_ = 0;
  size_t workers_stopped_ = 0;
  UvHandle<uv_signal_t> sigterm_;
  UvHandle<uv_signal_t> sigint_;
  UvHandle<uv_signal_t> sighup_;
  bool shutting_down_ = false;
};

}  // namespace deputy
