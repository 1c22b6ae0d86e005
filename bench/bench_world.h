#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "support/deputy_process.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"
#include "support/tls_server.h"
#include "support/well_known_server.h"

namespace deputy::bench {

// BenchWorld is the local universe of one bench run, all on 127.0.0.1: a test CA, an HTTPS
// well-known server delegating example.org's xmpp-client service to xmpp.example.com, a TLS echo
// server with a certificate for that name (the one upstream every measurement uses, through
// deputy or directly), and static DNS pointing both names at loopback.
class BenchWorld {
 public:
  static constexpr const char* kAuthority = "example.org:xmpp-client";
  static constexpr const char* kUpstreamName = "xmpp.example.com";

  // `max_connections` bounds the echo server's concurrent connections (a thread each) and
  // deputy's connect listener; it must cover every tunnel held open at once.
  explicit BenchWorld(int max_connections);

  const test::TestCa& ca() const { return ca_; }
  uint16_t echo_port() const { return echo_.port(); }

  // StartDeputy launches a fresh deputy for this world, with `workers` event loops (0: deputy's
  // default, one per CPU); null, with `*error` set, if it does not come up.
  std::unique_ptr<test::DeputyProcess> StartDeputy(std::string* error, unsigned workers = 0) const;

 private:
  test::TestCa ca_;
  test::TempDir dir_;
  std::string ca_file_;
  test::WellKnownServer well_known_;
  test::TlsServer echo_;
  nlohmann::json config_;
};

}  // namespace deputy::bench
