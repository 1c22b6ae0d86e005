#pragma once

#include <random>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "delegation/interpret.h"
#include "frontends/frontend.h"

namespace deputy {

// PlanRoute decides where a session may connect, given a delegation that says something: its
// targets in RFC 2782 order, or a refusal when the domain offers no such service. A delegation
// of kind kNotDelegated is for the next discovery source, not for PlanRoute.
Result<std::vector<Target>> PlanRoute(const Delegation& delegation, const Destination& destination,
                                      std::mt19937_64& rng);

// DirectRoute is the "direct" source: the domain itself on the service's port, refused with
// `why` when no port is known.
Result<std::vector<Target>> DirectRoute(const Destination& destination, const std::string& why);

// NotDelegatedReason says why `delegation` (kNotDelegated) sends the lookup on, for messages.
std::string NotDelegatedReason(const Delegation& delegation, const Destination& destination);

}  // namespace deputy
