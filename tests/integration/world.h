#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "support/client.h"
#include "support/deputy_process.h"
#include "support/random_data.h"
#include "support/socket.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"
#include "support/tls_handlers.h"
#include "support/tls_server.h"
#include "support/well_known_server.h"

namespace deputy::test {

// World is the local universe of one integration test: a test CA, a well-known HTTPS server
// that answers for every test domain, static DNS pointing those names at 127.0.0.1, and a
// deputy configuration using all of it. Tests adjust `config` before StartDeputy().
class World {
 public:
  static constexpr const char* kWellKnownPrefix = "/.well-known/service/";

  World();

  // Publish serves `body` with status 200 for `service` (any domain: the server is shared).
  void Publish(const std::string& service, const std::string& body, HeaderList headers = {});
  void PublishResponse(const std::string& service, WellKnownServer::Response response);
  // PublishTarget delegates `service` to one target: xmpp.example.com (127.0.0.1) on `port`,
  // whose certificate must be valid for example.com.
  void PublishTarget(const std::string& service, uint16_t port, HeaderList headers = {});
  int Fetches(const std::string& service) const {
    return well_known->Requests(kWellKnownPrefix + service);
  }

  // TargetEntry is one JSON document entry pointing at 127.0.0.1:port via `host`.
  static nlohmann::json Entry(const std::string& host, uint16_t port, const std::string& domain);

  // StartDeputy launches deputy with `config`; fails the test when it does not come up.
  DeputyProcess& StartDeputy();

  // OpenTunnel connects to the connect listener and sends CONNECT for `authority` plus
  // `early_data`; returns the socket and the response head.
  struct Opened {
    Socket socket;
    std::optional<HttpResponseHead> head;
  };
  Opened OpenTunnel(const std::string& authority, const std::string& early_data = "");
  // ExpectTunnel expects a 200 for `authority` and a target that echoes: "ping", sent with the
  // request as early data, comes back.
  void ExpectTunnel(const std::string& authority);
  // ExpectNoNewTunnel expects a client arriving at the connect listener now to get no tunnel:
  // refused, or (when it slipped into a closing listener's backlog) closed unanswered.
  void ExpectNoNewTunnel();
  // ExpectTunnelEndsCleanly expects `opened` still to echo, and to end cleanly on a half-close.
  static void ExpectTunnelEndsCleanly(Opened& opened);

  // Echo server with a certificate for `names` (signed by the test CA).
  std::unique_ptr<TlsServer> EchoServer(std::vector<std::string> names);

  TestCa ca;
  TempDir dir;
  std::string ca_file;
  std::unique_ptr<WellKnownServer> well_known;
  nlohmann::json config;
  std::unique_ptr<DeputyProcess> deputy;
};

// SmallAsanQuarantine, while it lives, starts deputy children with a 1 MiB AddressSanitizer
// quarantine: ASan parks freed memory there (256 MiB by default), which reads as RSS growth,
// and memory tests measure live memory. The previous environment comes back afterwards.
class SmallAsanQuarantine {
 public:
  SmallAsanQuarantine();
  ~SmallAsanQuarantine();
  SmallAsanQuarantine(const SmallAsanQuarantine&) = delete;
  SmallAsanQuarantine& operator=(const SmallAsanQuarantine&) = delete;

 private:
  std::optional<std::string> saved_;
};

// Expects a refusal with `status` and Proxy-Status error type `error_type`.
void ExpectRefusal(const std::optional<HttpResponseHead>& head, int status,
                   const std::string& error_type);

// ReadAll reads `n` bytes from `fd` and returns their SHA-256 (hex), or "" on failure.
std::string ReadAndHash(int fd, size_t n, Millis timeout);

}  // namespace deputy::test
