#include "server/config_generation.h"

#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "base/text_file.h"
#include "net/address.h"

namespace deputy {

namespace {

// Trust anchor bundles are a few hundred KiB (Debian's is about 200); more is not a bundle.
constexpr size_t kMaxCaFileBytes = 16 * 1024 * 1024;

Result<std::shared_ptr<const TlsClientContext>> LoadClientContext(const std::string& ca_file,
                                                                  TlsVersion min_version,
                                                                  const std::string& alpn) {
  Result<TlsClientContext> context = TlsClientContext::Create(ca_file, min_version, alpn);
  if (!context.ok()) return context.status();
  return std::make_shared<const TlsClientContext>(std::move(context).value());
}

// Fingerprint is the SHA-256 of the file's bytes, in hex.
Result<std::string> Fingerprint(const std::string& path) {
  Result<std::string> bytes = ReadTextFile(path, kMaxCaFileBytes);
  if (!bytes.ok()) return bytes.status();
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (uint8_t byte : digest) {
    hex.push_back(kHex[byte >> 4]);
    hex.push_back(kHex[byte & 0xf]);
  }
  return hex;
}

void WarnIfMixedHashes(const SharedUsers& users) {
  if (!users.Get()->MixedSettings()) return;
  spdlog::warn(
      "listener {}: the users file mixes hash methods or costs, so a wrong user name can take "
      "another time to refuse than a wrong password; rehash every user alike",
      users.listener());
}

// LoadListenerTls creates `listener`'s server context and counts the load.
Result<TlsServerContext> LoadListenerTls(const ListenerConfig& listener, Metrics& metrics) {
  Result<TlsServerContext> context = TlsServerContext::Create(*listener.tls);
  metrics.ListenerTlsLoads(listener.name, context.ok() ? "ok" : "error").Increment();
  return context;
}

Status InListener(const ListenerConfig& listener, const Status& status) {
  return Status(status.code(), "listener " + listener.name + ": " + status.message());
}

}  // namespace

ConfigGeneration::ConfigGeneration(Config config, uint64_t number)
    : number_(number),
      config_(std::move(config)),
      guard_(std::make_shared<const DestinationGuard>(config_.policy.allowed_networks,
                                                      config_.policy.denied_networks)),
      policy_(config_.policy) {}

std::string ConfigGeneration::SocketKey(const ListenerConfig& listener) {
  // The address as parsed, so that two spellings of one IPv6 address are one socket.
  const std::optional<IpEndpoint> endpoint =
      ParseIpLiteral(listener.address.host, listener.address.port);
  const std::string address = endpoint ? endpoint->ToString() : listener.address.ToString();
  return listener.address.port == 0 ? listener.name + "@" + address : address;
}

void ConfigGeneration::Publish(Metrics& metrics, AuthMetrics& auth_metrics) const {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  for (const Listener& state : listeners_) {
    const ListenerConfig& listener = *state.config;
    if (state.users) {
      auth_metrics.Register(listener.name);
      auth_metrics.OnUsersInForce(listener.name, state.users->Get()->size());
    }
    if (!state.tls) continue;
    for (std::string_view result : {"ok", "error"}) metrics.ListenerTlsLoads(listener.name, result);
    for (std::string_view result : {"ok", "ok_with_client_cert", "error"}) {
      metrics.ClientTlsHandshakes(listener.name, result);
    }
    const int64_t not_after = state.tls->not_after();
    if (not_after == 0) continue;  // unreadable: neither a gauge nor a warning
    metrics.ListenerCertificateExpiry(listener.name).Set(static_cast<double>(not_after));
    if (not_after <= now) {
      spdlog::warn("listener {}: the certificate in {} has expired; clients will refuse it",
                   listener.name, listener.tls->cert_file);
    }
  }
}

const ConfigGeneration::Listener* ConfigGeneration::Find(const std::string& name) const {
  for (const Listener& listener : listeners_) {
    if (listener.config->name == name) return &listener;
  }
  return nullptr;
}

Result<std::shared_ptr<const ConfigGeneration>> ConfigGeneration::Load(Config config,
                                                                       uint64_t number,
                                                                       const Services& services) {
  std::shared_ptr<ConfigGeneration> generation(new ConfigGeneration(std::move(config), number));
  const Config& loaded = generation->config_;

  auto upstream = LoadClientContext(loaded.upstream.ca_file, loaded.upstream.min_tls_version, "");
  if (!upstream.ok()) return upstream.status();
  generation->upstream_tls_ = std::move(upstream).value();
  auto discovery_tls = LoadClientContext(loaded.discovery.ca_file, TlsVersion::kTls12, "http/1.1");
  if (!discovery_tls.ok()) return discovery_tls.status();
  Result<std::string> fingerprint = Fingerprint(loaded.discovery.ca_file);
  if (!fingerprint.ok()) return fingerprint.status();
  generation->discovery_ = std::make_shared<const DiscoverySettings>(DiscoverySettings{
      loaded.discovery, generation->guard_, std::move(discovery_tls).value(),
      ConnectTimeouts{loaded.upstream.connect_timeout_ms, loaded.upstream.handshake_timeout_ms,
                      loaded.upstream.happy_eyeballs_delay_ms},
      std::move(fingerprint).value()});

  for (const ListenerConfig& listener : loaded.listeners) {
    Listener state;
    state.config = &listener;
    state.socket_key = SocketKey(listener);
    if (listener.auth) {
      auto users =
          SharedUsers::Load(listener.name, listener.auth->users_file, services.auth_metrics);
      if (!users.ok()) return InListener(listener, users.status());
      state.users = std::move(users).value();
      WarnIfMixedHashes(*state.users);
      if (number > 1) {
        spdlog::info("listener {}: users file {} read, {} users", listener.name,
                     listener.auth->users_file, state.users->Get()->size());
      }
    }
    if (listener.tls) {
      Result<TlsServerContext> tls = LoadListenerTls(listener, services.metrics);
      if (!tls.ok()) return InListener(listener, tls.status());
      state.tls.emplace(std::move(tls).value());
      if (number > 1) {
        spdlog::info("listener {}: TLS certificate read from {}", listener.name,
                     listener.tls->cert_file);
      }
    }
    state.connections = &services.slots.ForListener(listener.name);
    generation->listeners_.push_back(std::move(state));
  }
  return std::shared_ptr<const ConfigGeneration>(std::move(generation));
}

}  // namespace deputy
