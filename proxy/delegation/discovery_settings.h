#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "net/destination_guard.h"
#include "tls/tls_connector.h"
#include "tls/tls_context.h"

namespace deputy {

// DiscoverySettings is what a delegation fetch is made with. A reload replaces them for fetches
// that start later; a fetch under way holds the ones it started with, so the guard and TLS
// context it uses live as long as it does.
struct DiscoverySettings {
  DiscoveryConfig config;
  std::shared_ptr<const DestinationGuard> guard;
  std::shared_ptr<const TlsClientContext> tls;
  ConnectTimeouts connect;
  // What the trust anchors in config.ca_file were when loaded (a digest of the file): new
  // anchors, like a new url_template, make every cached answer one to fetch again.
  std::string ca_fingerprint;
};

}  // namespace deputy
