#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "admin/auth_metrics.h"
#include "admin/metrics.h"
#include "auth/credential_cache.h"
#include "auth/failure_limiter.h"
#include "auth/password_verifier.h"
#include "auth/proxy_authenticator.h"
#include "auth/shared_users.h"
#include "config/config.h"
#include "delegation/delegation_cache.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "net/destination_guard.h"
#include "net/dns_resolver.h"
#include "net/listener.h"
#include "policy/access_policy.h"
#include "server/connection_slots.h"
#include "server/listener_tls.h"
#include "session/session.h"

namespace deputy {

// ProcessServices is what every worker shares: read-only after start, or thread-safe.
struct ProcessServices {
  const Config& config;
  Metrics& metrics;
  AuthMetrics& auth_metrics;
  const DestinationGuard& guard;
  const AccessPolicy& policy;
  SSL_CTX* upstream_ctx;
  DelegationCache& delegations;
  PasswordVerifier& password_verifier;
  FailureLimiter& auth_failures;
  CredentialCache& verified_credentials;
  const std::map<const ListenerConfig*, std::unique_ptr<SharedUsers>>& users;
  const ListenerTls& client_tls;
  ConnectionSlots& slots;
};

// Worker is one event loop on its own thread with everything a session needs that is not
// shared: its listening sockets (one per listener, all workers' sharing the address through
// SO_REUSEPORT), resolver and sessions. Before Start, its owner calls Bind on
// the owner's thread; after, only the thread-safe members below.
class Worker {
 public:
  // Called on the worker's thread once it has stopped and closed everything.
  using StoppedCallback = std::function<void(unsigned index)>;

  Worker(unsigned index, ProcessServices& process, StoppedCallback on_stopped);
  ~Worker();  // joins the thread
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Bind opens a listening socket for every listener, at `endpoints` (in configuration order).
  // `share_port` sets SO_REUSEPORT. Returns the bound addresses (port 0 resolved).
  Result<std::vector<IpEndpoint>> Bind(const std::vector<IpEndpoint>& endpoints, bool share_port);
  // Start runs the loop on a new thread.
  void Start();

  // Drain stops accepting and lets sessions finish for up to `deadline_ms`, then cuts them;
  // the worker stops once none is left. Thread-safe.
  void Drain(uint64_t deadline_ms);
  // Abort cuts every session now (a second signal). Thread-safe.
  void Abort();
  // Join waits for the worker's thread to end (after Drain or Abort). Owner's thread.
  void Join();

  unsigned index() const { return index_; }

 private:
  void Run();
  void OnAccept(const ListenerConfig& listener, size_t listener_index,
                std::unique_ptr<TcpStream> client);
  void OnSessionFinished(Session* session, size_t listener_index);
  void AbortSessions();
  void MaybeStop();

  const unsigned index_;
  ProcessServices& process_;
  StoppedCallback on_stopped_;
  EventLoop loop_;
  std::mt19937_64 rng_;
  DnsResolver resolver_;
  AuthServices auth_services_;
  std::map<const ListenerConfig*, std::unique_ptr<ProxyAuthenticator>> authenticators_;
  SessionServices services_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::set<Session*> sessions_;
  Timer drain_deadline_;
  bool draining_ = false;
  std::atomic<bool> stop_accepting_{false};
  std::thread thread_;
};

}  // namespace deputy
