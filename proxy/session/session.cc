#include "session/session.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "config/config_names.h"
#include "config/services_db.h"
#include "delegation/srv_delegation.h"
#include "log/process_logs.h"
#include "log/warning_limiter.h"
#include "session/route_plan.h"

namespace deputy {

namespace {

// After a refusal the client gets this long to read the response before we close.
constexpr uint64_t kLingerMs = 2000;
constexpr size_t kMaxLingerBytes = 1 << 20;

// UtcTimestamp is ISO 8601 with milliseconds, e.g. 2026-11-28T19:04:05.123Z.
std::string UtcTimestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  size_t n = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof(text) - n, ".%03dZ", static_cast<int>(millis.count()));
  return text;
}

}  // namespace

Session::Session(std::shared_ptr<const SessionServices> services, const ListenerConfig& listener,
                 std::unique_ptr<TcpStream> client, bssl::UniquePtr<SSL_CTX> client_tls,
                 std::unique_ptr<Frontend> frontend, FinishedCallback on_finished)
    : services_(std::move(services)),
      listener_(listener),
      client_tls_(std::move(client_tls)),
      frontend_(std::move(frontend)),
      on_finished_(std::move(on_finished)),
      started_(std::chrono::steady_clock::now()),
      phases_(services_->metrics.SessionsInPhase(listener.name)),
      linger_timer_(services_->loop, [this] { Finish(result_); }) {
  if (auto peer = client->peer()) {
    client_address_ = peer->ToString();
    client_ip_ = IpAddress::Of(*peer);
  }
  client_ = std::move(client);
}

Session::~Session() {
  if (frontend_) frontend_->Stop();
  if (client_) client_->Close();
}

void Session::Start() {
  services_->metrics.Connections(listener_.name).Increment();
  services_->metrics.ActiveConnections(listener_.name).Increment();
  if (listener_.proxy_protocol || client_tls_ != nullptr) phases_.Enter(SessionPhase::kHandshake);
  if (!listener_.proxy_protocol) {
    AcceptTls();
    return;
  }
  // Only the load balancers may say who the client is.
  const bool trusted =
      client_ip_ && AnyContains(listener_.proxy_protocol_from, Unmapped(*client_ip_));
  if (!trusted) {
    Finish(Status(
        ErrorCode::kProxyProtocol,
        "a PROXY protocol peer must be in proxy_protocol_from; " + client_address_ + " is not"));
    return;
  }
  proxy_reader_ = std::make_unique<ProxyHeaderReader>(services_->loop, listener_.header_timeout_ms);
  proxy_reader_->Start(*client_, early_data_, [this](Result<ProxyHeader> header) {
    services_->loop.DeferDelete(std::move(proxy_reader_));
    if (!header.ok()) {
      Finish(header.status());
      return;
    }
    if (header->source) {
      client_address_ = header->source->ToString();
      client_ip_ = IpAddress::Of(*header->source);
    }
    AcceptTls();
  });
}

void Session::AcceptTls() {
  if (client_tls_ == nullptr) {
    StartFrontend();
    return;
  }
  tls_acceptor_ = std::make_unique<TlsAcceptor>(services_->loop, client_tls_.get(),
                                                listener_.tls->handshake_timeout_ms);
  tls_acceptor_->Start(std::move(client_), early_data_, [this](Result<AcceptedTls> accepted) {
    services_->loop.DeferDelete(std::move(tls_acceptor_));
    if (!accepted.ok()) {
      services_->metrics.ClientTlsHandshakes(listener_.name, "error").Increment();
      Finish(accepted.status());
      return;
    }
    client_ = std::move(accepted->stream);
    identities_ = std::move(accepted->identities);
    services_->metrics
        .ClientTlsHandshakes(listener_.name,
                             accepted->client_certificate ? "ok_with_client_cert" : "ok")
        .Increment();
    StartFrontend();
  });
}

void Session::StartFrontend() {
  phases_.Enter(SessionPhase::kRequest);
  frontend_->Start(*client_, client_ip_, early_data_,
                   [this](Result<ClientRequest> request) { OnRequest(std::move(request)); });
}

void Session::OnRequest(Result<ClientRequest> request) {
  if (!request.ok()) {
    Refuse(request.status());
    return;
  }
  destination_ = std::move(request->destination);
  user_ = std::move(request->user);
  if (Status denied = Authorize(); !denied.ok()) {
    Refuse(denied);
    return;
  }
  WatchClient();
  if (destination_.service.empty()) {
    // A bare port with no service name: there is nothing to look up, only "direct" can answer.
    not_delegated_ =
        "port " + std::to_string(destination_.port.value_or(0)) + " maps to no service name";
    const std::vector<DiscoverySource>& sources = services_->config.discovery.sources;
    next_source_ = static_cast<size_t>(
        std::find(sources.begin(), sources.end(), DiscoverySource::kDirect) - sources.begin());
  }
  phases_.Enter(SessionPhase::kLookup);
  lookup_started_ = std::chrono::steady_clock::now();
  AskNextSource();
}

void Session::AskNextSource() {
  const std::vector<DiscoverySource>& sources = services_->config.discovery.sources;
  if (next_source_ >= sources.size()) {
    Refuse(Status(ErrorCode::kDenied, not_delegated_ + " and discovery.sources has no other"));
    return;
  }
  switch (sources[next_source_++]) {
    case DiscoverySource::kWellKnown:
      lookup_ = services_->delegations.Lookup(
          services_->loop, services_->resolver, destination_.domain, destination_.service,
          [this](Result<LookupOutcome> outcome) { OnDelegation(std::move(outcome)); });
      return;
    case DiscoverySource::kSrv: {
      std::string name = SrvNameFor(destination_.domain, destination_.service);
      srv_query_ = services_->resolver.Lookup(
          name, DnsType::kSrv,
          [this, name](Result<DnsAnswer> answer) { OnSrvAnswer(name, std::move(answer)); });
      return;
    }
    case DiscoverySource::kDirect: {
      Result<std::vector<Target>> route = DirectRoute(destination_, not_delegated_);
      if (!route.ok()) {
        Refuse(route.status());
        return;
      }
      targets_ = std::move(route).value();
      ConnectNext();
      return;
    }
  }
}

void Session::RecordDecision(std::string_view rule, PolicyAction action) {
  policy_rule_ = rule;
  services_->metrics.PolicyDecisions(rule, NameOf(kPolicyActionNames, action)).Increment();
}

Status Session::Authorize() {
  const uint16_t port = destination_.port.value_or(
      PortForService(destination_.service, services_->config).value_or(0));
  // Squid's SSL_ports: a CONNECT or SOCKS client picks the port, so the operator may bound it.
  if (listener_.type != ListenerType::kFixed && port != 0 &&
      !services_->policy.ConnectPortAllowed(port)) {
    RecordDecision(kConnectPortsRule, PolicyAction::kDeny);
    return Status(ErrorCode::kPolicyDenied,
                  "port " + std::to_string(port) + " is not in policy.connect_ports");
  }
  const AccessDecision decision =
      services_->policy.Decide({client_ip_, listener_.name, destination_.domain,
                                destination_.service, port, user_, &identities_});
  RecordDecision(decision.rule, decision.action);
  if (decision.action == PolicyAction::kAllow) return Status::Ok();
  return Status(ErrorCode::kPolicyDenied,
                decision.rule == kDefaultRule
                    ? std::string("no policy rule allows this (policy.default is deny)")
                    : "denied by policy rule \"" + std::string(decision.rule) + "\"");
}

Status Session::DropTargetsOffConnectPorts() {
  if (listener_.type == ListenerType::kFixed || !services_->config.policy.connect_ports) {
    return Status::Ok();
  }
  // The document picks the ports deputy connects to; connect_ports bounds those too, or a
  // domain could aim CONNECT clients at any port of any public host.
  std::string dropped;
  std::erase_if(targets_, [&](const Target& target) {
    if (services_->policy.ConnectPortAllowed(target.port)) return false;
    dropped += (dropped.empty() ? "" : ", ") + std::to_string(target.port);
    return true;
  });
  if (!targets_.empty()) return Status::Ok();
  RecordDecision(kConnectPortsRule, PolicyAction::kDeny);
  return Status(ErrorCode::kPolicyDenied, destination_.domain +
                                              " delegates only to ports outside "
                                              "policy.connect_ports (" +
                                              dropped + ")");
}

void Session::OnDelegation(Result<LookupOutcome> outcome) {
  services_->loop.DeferDelete(std::move(lookup_));
  services_->metrics.LookupWait().Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - lookup_started_).count());
  if (!outcome.ok()) {
    Refuse(outcome.status());
    return;
  }
  UseDelegation(*outcome->delegation);
}

void Session::OnSrvAnswer(const std::string& name, Result<DnsAnswer> answer) {
  services_->loop.DeferDelete(std::move(srv_query_));
  // A lookup that failed says nothing about the route: going on to the next source would let
  // whoever can break DNS choose it.
  if (!answer.ok()) {
    Refuse(Status(answer.status().code(),
                  "SRV lookup of " + name + " failed: " + answer.status().message()));
    return;
  }
  std::vector<std::string> skipped;
  Result<std::shared_ptr<const Delegation>> delegation = DelegationFromSrv(
      *answer, name, destination_.domain,
      [this](const std::string& host) { return services_->resolver.HasStaticHost(host); },
      &skipped);
  for (const std::string& reason : skipped) {
    WarnLimited("SRV record skipped", "SRV {}: skipped {}", name, reason);
  }
  if (!delegation.ok()) {
    Refuse(delegation.status());
    return;
  }
  UseDelegation(**delegation);
}

void Session::UseDelegation(const Delegation& delegation) {
  if (delegation.kind == Delegation::Kind::kNotDelegated) {
    not_delegated_ = NotDelegatedReason(delegation, destination_);
    AskNextSource();
    return;
  }
  Result<std::vector<Target>> route = PlanRoute(delegation, destination_, services_->rng);
  if (!route.ok()) {
    Refuse(route.status());
    return;
  }
  targets_ = std::move(route).value();
  ConnectNext();
}

void Session::WatchClient() {
  frontend_->Stop();
  client_->SetCallbacks(this);
  if (early_data_.size() < services_->config.upstream.buffer_bytes) client_->SetReadEnabled(true);
}

void Session::ConnectNext() {
  const UpstreamConfig& upstream = services_->config.upstream;
  if (!connect_deadline_) {
    phases_.Enter(SessionPhase::kConnect);
    if (Status ports = DropTargetsOffConnectPorts(); !ports.ok()) {
      Refuse(ports);
      return;
    }
    // One budget for the whole connect phase, from the first target's name resolution on.
    connect_deadline_ =
        ConnectBudget::Clock::now() + std::chrono::milliseconds(upstream.connect_budget_ms);
    attempts_left_ = upstream.max_attempts;
  }
  if (next_target_ >= targets_.size()) {
    Refuse(last_connect_error_.ok() ? Status(ErrorCode::kDnsError, "no target to connect to")
                                    : last_connect_error_);
    return;
  }
  if (attempts_left_ == 0) {
    Refuse(ConnectLimitReached(TlsConnectAttempt::Limit::kConnects));
    return;
  }
  if (ConnectBudget::Clock::now() >= *connect_deadline_) {
    Refuse(ConnectLimitReached(TlsConnectAttempt::Limit::kDeadline));
    return;
  }
  const Target& target = targets_[next_target_];
  attempt_ = std::make_unique<TlsConnectAttempt>(
      services_->loop, services_->resolver, services_->guard, services_->upstream_ctx,
      ConnectTimeouts{upstream.connect_timeout_ms, upstream.handshake_timeout_ms,
                      upstream.happy_eyeballs_delay_ms},
      ConnectBudget{attempts_left_, *connect_deadline_});
  attempt_->Start(
      target.host, target.port, target.domain,
      [this](Result<TlsConnection> connection) { OnUpstream(std::move(connection)); },
      [this](const std::string& where, const Status& status) {
        WarnLimited("upstream attempt failed", "{}/{}: upstream {} failed: {}", destination_.domain,
                    destination_.service, where, status.ToString());
      });
}

void Session::OnUpstream(Result<TlsConnection> connection) {
  TlsConnectAttempt::Limit limit = attempt_->limit_reached();
  attempts_left_ -= std::min(attempts_left_, attempt_->connects());
  services_->loop.DeferDelete(std::move(attempt_));
  if (!connection.ok()) {
    // A target that failed for real says more than one the guard skipped: a 403 only when
    // every address of every target was prohibited.
    bool prohibited = connection.status().code() == ErrorCode::kDestinationProhibited;
    bool real_failure_seen = !last_connect_error_.ok() &&
                             last_connect_error_.code() != ErrorCode::kDestinationProhibited;
    if (!prohibited || !real_failure_seen) last_connect_error_ = connection.status();
    if (limit != TlsConnectAttempt::Limit::kNone) {
      Refuse(ConnectLimitReached(limit));
      return;
    }
    ++next_target_;
    ConnectNext();
    return;
  }
  connected_target_ = targets_[next_target_];
  upstream_address_ = connection->endpoint.ToString();
  tls_version_ = connection->stream->version();
  tls_cipher_ = connection->stream->cipher();
  services_->metrics.UpstreamDns().Observe(connection->dns_seconds);
  services_->metrics.UpstreamConnect().Observe(connection->connect_seconds);
  services_->metrics.UpstreamHandshake().Observe(connection->handshake_seconds);
  phases_.Enter(SessionPhase::kTunnel);
  tunnel_started_ = std::chrono::steady_clock::now();

  frontend_->Established(*client_);
  frontend_->Stop();
  TunnelOptions options;
  options.buffer_limit = services_->config.upstream.buffer_bytes;
  options.idle_timeout_s = services_->config.upstream.idle_timeout_s;
  options.bytes_upstream = &services_->metrics.BytesUpstream();
  options.bytes_downstream = &services_->metrics.BytesDownstream();
  connection->stream->SetAllowTruncation(services_->config.upstream.allow_truncation);
  tunnel_ =
      std::make_unique<Tunnel>(services_->loop, std::move(client_), std::move(connection->stream),
                               options, [this](const Status& status) { OnTunnelDone(status); });
  tunnel_->Start(early_data_, client_ended_);
}

Status Session::ConnectLimitReached(TlsConnectAttempt::Limit limit) const {
  const UpstreamConfig& upstream = services_->config.upstream;
  std::string last = last_connect_error_.message();
  if (!last.empty()) last += "; ";
  if (limit == TlsConnectAttempt::Limit::kDeadline) {
    // Named after the step the budget ran out in: a lookup that never answered is a DNS timeout.
    ErrorCode code = last_connect_error_.code() == ErrorCode::kDnsTimeout
                         ? ErrorCode::kDnsTimeout
                         : ErrorCode::kConnectionTimeout;
    return Status(code, last + "connect budget of " + std::to_string(upstream.connect_budget_ms) +
                            " ms spent (upstream.connect_budget_ms)");
  }
  return Status(last_connect_error_.code(), last + "gave up after " +
                                                std::to_string(upstream.max_attempts) +
                                                " connection attempts (upstream.max_attempts)");
}

void Session::OnTunnelDone(const Status& status) { Finish(status); }

void Session::Refuse(const Status& status) {
  result_ = status;
  if (!client_ || client_->closed() || !frontend_->Refuse(*client_, status)) {
    Finish(status);
    return;
  }
  frontend_->Stop();
  phases_.Enter(SessionPhase::kClosing);
  // Lingering close: end our side, then read and discard until the client closes, so it reads
  // the response instead of a reset caused by unread data.
  lingering_ = true;
  client_->SetCallbacks(this);
  client_->ShutdownWrite();
  client_->SetReadEnabled(true);
  linger_timer_.Start(kLingerMs);
}

void Session::OnData(Buffer& data) {
  if (lingering_) {
    lingered_bytes_ += data.size();
    data.Clear();
    if (lingered_bytes_ > kMaxLingerBytes) Finish(result_);
    return;
  }
  // Copied rather than moved: many small reads then share slices, so memory stays near the
  // byte count.
  data.ForEachSlice([this](const uint8_t* bytes, size_t n) { early_data_.Append(bytes, n); });
  data.Clear();
  if (early_data_.size() >= services_->config.upstream.buffer_bytes) {
    client_->SetReadEnabled(false);
  }
}

void Session::OnEndOfStream() {
  // A fixed listener's client speaks plain TCP: its FIN is a half-close ("that was my whole
  // request") and is passed on once the tunnel is up. A CONNECT client waits for its 200, so
  // before it a FIN counts as leaving, as with HAProxy's abortonclose: the lookup and the
  // connect are for nobody now.
  if (!lingering_ && listener_.type == ListenerType::kFixed) {
    client_ended_ = true;
    return;
  }
  Finish(lingering_ ? result_
                    : Status(ErrorCode::kClientClosed,
                             "the client closed its connection before the tunnel was up"));
}

void Session::OnError(const Status& status) {
  Finish(lingering_ ? result_
                    : Status(ErrorCode::kClientClosed,
                             "the client connection failed before the tunnel was up: " +
                                 status.message()));
}

void Session::Abort() {
  const Status status(ErrorCode::kConnectionTerminated, "deputy is shutting down");
  // A running tunnel is reset on both sides: a cut download must not read as complete.
  if (tunnel_) tunnel_->Cut(status);
  Finish(status);
}

void Session::Finish(const Status& status) {
  if (finished_) return;
  finished_ = true;
  // Cancel whatever is still pending, so no frontend answer, lookup or connect works for an
  // ended session.
  if (frontend_) frontend_->Stop();
  services_->loop.DeferDelete(std::move(proxy_reader_));
  // The acceptor owns the client during the handshake: cancelled, it closes it and never calls.
  if (tls_acceptor_) tls_acceptor_->Cancel();
  services_->loop.DeferDelete(std::move(tls_acceptor_));
  lookup_.reset();
  srv_query_.reset();
  attempt_.reset();
  linger_timer_.Stop();
  if (client_) client_->Close();
  phases_.End();
  if (tunnel_) ObserveTunnel();
  // Counted before the log line is written: with several workers, a reader who has seen the
  // line may scrape /metrics from another loop at once, and must find the session counted.
  services_->metrics.Tunnels(listener_.name, status.label()).Increment();
  services_->metrics.ActiveConnections(listener_.name).Decrement();
  WriteAccessLog(status);
  if (on_finished_) on_finished_(this);
}

void Session::ObserveTunnel() {
  using Seconds = std::chrono::duration<double>;
  Metrics& metrics = services_->metrics;
  metrics.TunnelDuration().Observe(
      Seconds(std::chrono::steady_clock::now() - tunnel_started_).count());
  metrics.TunnelBytesUpstream().Observe(static_cast<double>(tunnel_->bytes_upstream()));
  metrics.TunnelBytesDownstream().Observe(static_cast<double>(tunnel_->bytes_downstream()));
  if (auto first = tunnel_->first_downstream_byte()) {
    metrics.TimeToFirstByte().Observe(Seconds(*first - started_).count());
  }
}

void Session::WriteAccessLog(const Status& status) {
  nlohmann::json line;
  line["time"] = UtcTimestamp();
  line["listener"] = listener_.name;
  line["worker"] = services_->worker;
  line["client"] = client_address_;
  if (!user_.empty()) line["user"] = user_;
  // The first identity: a SPIFFE ID when the certificate has one (URI names come first).
  if (!identities_.empty()) line["identity"] = identities_.front();
  line["domain"] = destination_.domain;
  line["service"] = destination_.service;
  if (!policy_rule_.empty()) line["rule"] = policy_rule_;
  if (!upstream_address_.empty()) {
    line["target"] = connected_target_.host + ":" + std::to_string(connected_target_.port);
    line["address"] = upstream_address_;
    line["verified_name"] = connected_target_.domain;
    line["tls_version"] = tls_version_;
    line["tls_cipher"] = tls_cipher_;
  }
  line["bytes_upstream"] = tunnel_ ? tunnel_->bytes_upstream() : 0;
  line["bytes_downstream"] = tunnel_ ? tunnel_->bytes_downstream() : 0;
  line["phase_ms"] = phases_.Millis();
  line["duration_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started_)
                            .count();
  line["result"] = status.label();
  if (!status.ok()) line["error"] = status.message();
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  WriteAccessLogLine(std::move(text));
}

}  // namespace deputy
