#pragma once

#include <random>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "delegation/interpret.h"
#include "frontends/frontend.h"

namespace deputy {

// PlanRoute decides where a session may connect, given the domain's delegation: the document's
// targets in RFC 2782 order; for a domain that does not delegate, the domain itself when the
// fallback is "direct"; otherwise a refusal.
Result<std::vector<Target>> PlanRoute(const Delegation& delegation, const Destination& destination,
                                      Fallback fallback, std::mt19937_64& rng);

// DirectRoute is the fallback target: the domain itself on the service's port.
Result<std::vector<Target>> DirectRoute(const Destination& destination, Fallback fallback,
                                        const std::string& why);

}  // namespace deputy
