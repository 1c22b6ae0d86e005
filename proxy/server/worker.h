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
#include "server/config_generation.h"
#include "server/connection_slots.h"
#include "session/session.h"

namespace deputy {

// ProcessServices is what every worker shares whatever the configuration: thread-safe, and
// living as long as the process serves.
struct ProcessServices {
  Metrics& metrics;
  AuthMetrics& auth_metrics;
  const AuthConfig& auth;  // read at start only
  DelegationCache& delegations;
  PasswordVerifier& password_verifier;
  FailureLimiter& auth_failures;
  CredentialCache& verified_credentials;
  ConnectionSlots& slots;
  DnsObserver& dns_observer;
};

// Worker is one event loop on its own thread with everything a session needs that is not
// shared: its listening sockets (one per listener address, every worker's sharing it through
// SO_REUSEPORT), resolver and sessions. New sessions are served under the configuration
// generation applied last; a session keeps the one it was accepted under.
class Worker {
 public:
  // Called on the worker's thread once it has stopped and closed everything.
  using StoppedCallback = std::function<void(unsigned index)>;
  // Sockets by ConfigGeneration::Listener::socket_key.
  using Sockets = std::map<std::string, Listener::ListeningSocket>;

  Worker(unsigned index, ProcessServices& process,
         std::shared_ptr<const ConfigGeneration> generation, StoppedCallback on_stopped);
  ~Worker();  // joins the thread
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Apply makes `generation` the one new sessions are served under, on the worker's thread: it
  // starts accepting on `opened` (the sockets of addresses it had none for), keeps the sockets
  // whose key `generation` still uses and closes the others, then calls `applied` there.
  // Thread-safe; before Start, it applies at once, on the caller's thread.
  void Apply(std::shared_ptr<const ConfigGeneration> generation, Sockets opened,
             std::function<void()> applied = nullptr);
  // Start runs the loop on a new thread.
  void Start();
  // Why the resolver cannot ask name servers (no usable resolv.conf, say), or ok.
  const Status& ResolverStatus() const { return resolver_.status(); }

  // Drain stops accepting and lets sessions finish for up to `deadline_ms`, then cuts them;
  // the worker stops once none is left and no other worker's session waits on a delegation
  // fetch it runs. Thread-safe.
  void Drain(uint64_t deadline_ms);
  // Abort cuts every session now (a second signal). Thread-safe.
  void Abort();
  // Join waits for the worker's thread to end (after Drain or Abort). Owner's thread.
  void Join();

  unsigned index() const { return index_; }

 private:
  // Served is what the worker makes of one generation; each session holds it.
  struct Served;

  void Run();
  std::shared_ptr<Served> Serve(std::shared_ptr<const ConfigGeneration> generation);
  void ApplyNow(std::shared_ptr<const ConfigGeneration> generation, Sockets opened);
  void OnAccept(const std::string& socket_key, std::unique_ptr<TcpStream> client);
  void OnSessionFinished(Session* session, ConnectionSlots::Count& connections);
  void AbortSessions();
  void MaybeStop();

  const unsigned index_;
  ProcessServices& process_;
  StoppedCallback on_stopped_;
  EventLoop loop_;
  std::mt19937_64 rng_;
  DnsResolver resolver_;
  AuthServices auth_services_;
  std::shared_ptr<Served> served_;
  std::map<std::string, std::unique_ptr<Listener>> listeners_;  // by socket key
  std::set<Session*> sessions_;
  Timer drain_deadline_;
  bool draining_ = false;
  bool cutting_ = false;  // past the drain deadline, or aborted: nothing more is waited for
  std::atomic<bool> stop_accepting_{false};
  std::thread thread_;
};

}  // namespace deputy
