#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "admin/auth_metrics.h"
#include "admin/metrics.h"
#include "auth/shared_users.h"
#include "base/status.h"
#include "config/config.h"
#include "delegation/discovery_settings.h"
#include "net/destination_guard.h"
#include "policy/access_policy.h"
#include "server/connection_slots.h"
#include "tls/tls_context.h"
#include "tls/tls_server_context.h"

namespace deputy {

// ConfigGeneration is one loaded configuration and everything made from it that sessions use:
// the destination guard, the access policy, the upstream and discovery trust anchors, and per
// listener its users, its certificate and its connection count. It never changes once made.
// Every worker shares the current one, and each session holds the one it was accepted under, so
// a reload decides what new sessions get and never touches a running one.
class ConfigGeneration {
 public:
  struct Listener {
    const ListenerConfig* config = nullptr;
    std::unique_ptr<SharedUsers> users;   // with auth
    std::optional<TlsServerContext> tls;  // with tls
    ConnectionSlots::Count* connections = nullptr;
    // Which listening socket it accepts on: its address, or for port 0 (any free port) its
    // name and address, so that a reload keeping the address keeps the socket.
    std::string socket_key;
  };

  // What loading needs from the process: where loads are counted, and the connection counts.
  struct Services {
    Metrics& metrics;
    AuthMetrics& auth_metrics;
    ConnectionSlots& slots;
  };

  // Load makes generation `number` from `config`: reads every users file, listener certificate
  // and trust anchor file. It changes nothing that runs; an error names the key or file at
  // fault, and only the metrics of the loads tried remain.
  static Result<std::shared_ptr<const ConfigGeneration>> Load(Config config, uint64_t number,
                                                              const Services& services);

  // Publish sets the gauges that describe what is in force (users per listener, certificate
  // expiry) and the series of its listeners at zero: called once the generation applies, so a
  // reload that fails shows nothing of the files it read.
  void Publish(Metrics& metrics, AuthMetrics& auth_metrics) const;

  ConfigGeneration(const ConfigGeneration&) = delete;
  ConfigGeneration& operator=(const ConfigGeneration&) = delete;

  uint64_t number() const { return number_; }
  const Config& config() const { return config_; }
  const DestinationGuard& guard() const { return *guard_; }
  const AccessPolicy& policy() const { return policy_; }
  SSL_CTX* upstream_ctx() const { return upstream_tls_->get(); }
  const std::shared_ptr<const DiscoverySettings>& discovery() const { return discovery_; }
  // In configuration order.
  const std::vector<Listener>& listeners() const { return listeners_; }
  // Find is the listener named `name`, or null.
  const Listener* Find(const std::string& name) const;

  // SocketKey is the key of the socket `listener` accepts on (see Listener::socket_key).
  static std::string SocketKey(const ListenerConfig& listener);

 private:
  ConfigGeneration(Config config, uint64_t number);

  const uint64_t number_;
  const Config config_;
  std::shared_ptr<const DestinationGuard> guard_;
  const AccessPolicy policy_;  // refers to config_.policy
  std::shared_ptr<const TlsClientContext> upstream_tls_;
  std::shared_ptr<const DiscoverySettings> discovery_;
  std::vector<Listener> listeners_;
};

}  // namespace deputy
