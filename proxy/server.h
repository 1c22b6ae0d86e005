#pragma once

#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "admin/admin_server.h"
#include "admin/auth_metrics.h"
#include "admin/cache_metrics.h"
#include "admin/metrics.h"
#include "auth/proxy_authenticator.h"
#include "config/config.h"
#include "delegation/delegation_cache.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "net/destination_guard.h"
#include "net/dns_resolver.h"
#include "net/listener.h"
#include "policy/access_policy.h"
#include "session/session.h"
#include "tls/tls_context.h"
#include "tls/tls_server_context.h"

namespace deputy {

// Server wires one configuration into a running proxy on one event loop: listeners, the admin
// endpoint, the delegation cache and the sessions.
class Server {
 public:
  explicit Server(Config config);
  ~Server();

  // Start loads the TLS trust anchors and binds every listener, announcing each on stderr as a
  // JSON line {"event":"listening","listener":NAME,"address":"IP:PORT"}.
  Status Start();
  // Run serves until SIGINT or SIGTERM, then drains sessions for up to drain_ms.
  void Run();

 private:
  struct ListenerSlot {
    const ListenerConfig* config;
    std::unique_ptr<Listener> listener;
  };

  void OnAccept(const ListenerConfig& listener, std::unique_ptr<TcpStream> client);
  void OnSessionFinished(Session* session);
  // LoadUsersFiles creates an authenticator for every listener with auth and reads its file.
  Status LoadUsersFiles();
  // ReloadUsersFiles re-reads them (SIGHUP); a file that fails keeps the users read before.
  void ReloadUsersFiles();
  // LoadListenerTls creates the server context of every listener with tls.
  Status LoadListenerTls();
  // ReloadListenerTls re-creates them (SIGHUP); one that fails keeps the context before.
  void ReloadListenerTls();
  // LoadTls creates `listener`'s context and records the load in the metrics.
  Result<TlsServerContext> LoadTls(const ListenerConfig& listener);
  // FitConnectionsToDescriptors raises the open-file limit and sets max_connections_ from
  // limits.max_connections, or from what the limit leaves room for.
  void FitConnectionsToDescriptors();
  void BeginShutdown();
  void MaybeStopLoop();

  Config config_;
  EventLoop loop_;
  Metrics metrics_;
  CacheMetrics cache_metrics_{metrics_};
  AuthMetrics auth_metrics_{metrics_};
  std::mt19937_64 rng_;
  DestinationGuard guard_;
  AccessPolicy policy_;
  std::unique_ptr<DnsResolver> resolver_;
  std::optional<TlsClientContext> discovery_tls_;
  std::optional<TlsClientContext> upstream_tls_;
  std::unique_ptr<DelegationCache> delegations_;
  PasswordVerifier password_verifier_;
  FailureLimiter auth_failures_;
  CredentialCache verified_credentials_;
  AuthServices auth_services_;
  std::map<const ListenerConfig*, std::unique_ptr<ProxyAuthenticator>> authenticators_;
  std::map<const ListenerConfig*, TlsServerContext> client_tls_;
  std::unique_ptr<SessionServices> services_;
  std::vector<ListenerSlot> listeners_;
  std::unique_ptr<AdminServer> admin_;
  std::set<Session*> sessions_;
  std::map<const ListenerConfig*, uint32_t> open_per_listener_;
  uint32_t max_connections_ = std::numeric_limits<uint32_t>::max();
  UvHandle<uv_signal_t> sigterm_;
  UvHandle<uv_signal_t> sigint_;
  UvHandle<uv_signal_t> sighup_;
  Timer drain_deadline_;
  bool shutting_down_ = false;
};

}  // namespace deputy
