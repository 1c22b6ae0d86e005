#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "delegation/document.h"
#include "http/https_client.h"

namespace deputy {

// Delegation is what a domain says about one of its services.
struct Delegation {
  enum class Kind {
    kTargets,       // 200 with at least one valid entry
    kEmpty,         // 200 with [], or the SRV target ".": the domain offers no such service
    kNotDelegated,  // 404 or 410, NXDOMAIN or NODATA: the next discovery source is asked
  };
  Kind kind = Kind::kTargets;
  std::vector<Target> targets;  // document order
  int http_status = 0;
  int64_t ttl_s = 0;
  DiscoverySource source = DiscoverySource::kWellKnown;
  std::string url;  // the URL that answered, after redirects; for SRV, the name asked
};

// InterpretResponse turns a fetched well-known response into a Delegation, or the error that
// makes the lookup fail. `is_static_host` names the hosts of dns.hosts (see ParseDocument).
// `skipped` receives the reason for each invalid entry.
Result<std::shared_ptr<const Delegation>> InterpretResponse(const FetchResult& fetched,
                                                            const DiscoveryConfig& config,
                                                            const StaticHostCheck& is_static_host,
                                                            std::vector<std::string>* skipped);

}  // namespace deputy
