#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "admin/metrics.h"
#include "config/config.h"
#include "delegation/delegation_cache.h"
#include "frontends/frontend.h"
#include "frontends/proxy_header_reader.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "net/dns_resolver.h"
#include "net/ip_network.h"
#include "net/tcp_stream.h"
#include "policy/access_policy.h"
#include "session/phase_tracker.h"
#include "tls/tls_acceptor.h"
#include "tls/tls_connector.h"
#include "tunnel/tunnel.h"

namespace deputy {

// SessionServices are the long-lived pieces every session of a server shares.
struct SessionServices {
  EventLoop& loop;
  const Config& config;
  DelegationCache& delegations;
  DnsResolver& resolver;
  const DestinationGuard& guard;
  const AccessPolicy& policy;
  SSL_CTX* upstream_ctx;
  Metrics& metrics;
  std::mt19937_64& rng;
  unsigned worker = 0;  // which worker's loop, for the access log
};

// Session is one client's whole life, read top to bottom: the frontend names a destination,
// the delegation is looked up, targets are tried until one connects and verifies, the client
// is told, and the tunnel splices until both sides are done. It logs one access-log line and
// counts one tunnel result at the end.
class Session : public Deferrable, private StreamCallbacks {
 public:
  using FinishedCallback = std::function<void(Session*)>;

  // `client_tls` is the listener's server context when the listener speaks TLS, else null;
  // the session holds it from accept on, so a reload before the handshake does not touch it.
  // `services` is held for the session's life: it keeps the configuration the session was
  // accepted under, which `listener` belongs to, however often deputy reloads meanwhile.
  Session(std::shared_ptr<const SessionServices> services, const ListenerConfig& listener,
          std::unique_ptr<TcpStream> client, bssl::UniquePtr<SSL_CTX> client_tls,
          std::unique_ptr<Frontend> frontend, FinishedCallback on_finished);
  ~Session() override;

  void Start();
  // Abort ends the session now (server shutdown).
  void Abort();

 private:
  // AcceptTls runs the client's TLS handshake, after the PROXY header if there is one.
  void AcceptTls();
  // StartFrontend hands the client to the frontend, after the PROXY header and the TLS
  // handshake when the listener has them.
  void StartFrontend();
  void OnRequest(Result<ClientRequest> request);
  // Authorize applies policy.connect_ports and the access rules to the named destination.
  Status Authorize();
  // DropTargetsOffConnectPorts removes the targets on ports outside policy.connect_ports; an
  // error when none is left.
  Status DropTargetsOffConnectPorts();
  // RecordDecision notes the policy decision for the access log and counts it.
  void RecordDecision(std::string_view rule, PolicyAction action);
  // AskNextSource asks the next of discovery.sources where the destination's service lives;
  // `not_delegated_` says why the one before passed.
  void AskNextSource();
  void OnDelegation(Result<LookupOutcome> outcome);
  void OnSrvAnswer(const std::string& name, Result<DnsAnswer> answer);
  // UseDelegation plans the route from a source's answer, or asks the next source.
  void UseDelegation(const Delegation& delegation);
  // WatchClient takes the client over from the frontend until the tunnel starts (see OnData).
  void WatchClient();
  void ConnectNext();
  void OnUpstream(Result<TlsConnection> connection);
  // ConnectLimitReached is the refusal when `limit` ends the connect phase early.
  Status ConnectLimitReached(TlsConnectAttempt::Limit limit) const;
  void OnTunnelDone(const Status& status);
  void Refuse(const Status& status);
  void Finish(const Status& status);
  // ObserveTunnel records the ended tunnel's duration, bytes and time to first byte.
  void ObserveTunnel();
  void WriteAccessLog(const Status& status);

  // The client between its request and the tunnel: what it sends joins the early data, up to
  // upstream.buffer_bytes (beyond that reading pauses, and a close is seen only once the tunnel
  // starts); its FIN or reset ends the session as client_closed. After a refusal (lingering
  // close): discard what the client still sends.
  void OnData(Buffer& data) override;
  void OnEndOfStream() override;
  void OnWriteDrained() override {}
  void OnError(const Status& status) override;

  const std::shared_ptr<const SessionServices> services_;
  const ListenerConfig& listener_;
  std::unique_ptr<ByteStream> client_;  // plain TCP, or TLS once the handshake is done
  bssl::UniquePtr<SSL_CTX> client_tls_;
  std::unique_ptr<Frontend> frontend_;
  std::unique_ptr<ProxyHeaderReader> proxy_reader_;  // until the PROXY header is read
  std::unique_ptr<TlsAcceptor> tls_acceptor_;        // during the client's TLS handshake
  FinishedCallback on_finished_;
  std::chrono::steady_clock::time_point started_;
  PhaseTracker phases_;
  std::chrono::steady_clock::time_point lookup_started_;
  std::chrono::steady_clock::time_point tunnel_started_;
  std::string client_address_;
  std::optional<IpAddress> client_ip_;
  std::string_view policy_rule_;  // the rule that allowed or denied; empty before the decision
  Buffer early_data_;
  Destination destination_;
  std::string user_;                     // the authenticated proxy user, if the listener has auth
  std::vector<std::string> identities_;  // the verified client certificate's identities
  std::unique_ptr<DelegationLookup> lookup_;
  std::unique_ptr<DnsQuery> srv_query_;
  size_t next_source_ = 0;
  std::string not_delegated_;
  std::vector<Target> targets_;
  size_t next_target_ = 0;
  std::unique_ptr<TlsConnectAttempt> attempt_;
  std::optional<ConnectBudget::Clock::time_point> connect_deadline_;
  uint32_t attempts_left_ = 0;
  Status last_connect_error_;
  Target connected_target_;
  std::string upstream_address_;
  std::string tls_version_;
  std::string tls_cipher_;
  std::unique_ptr<Tunnel> tunnel_;
  Timer linger_timer_;
  bool lingering_ = false;
  size_t lingered_bytes_ = 0;
  Status result_;
  bool client_ended_ = false;  // a fixed listener's client half-closed before the tunnel
  bool finished_ = false;
};

}  // namespace deputy
