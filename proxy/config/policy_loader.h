#pragma once

#include <vector>

#include "config/config.h"
#include "config/json_fields.h"

namespace deputy::config_json {

// ReadPolicy reads the `policy` object: the destination guard's networks, the access rules,
// the default action and the CONNECT ports (docs/configuration.md#policy).
void ReadPolicy(Errors* errors, const Json& json, PolicyConfig* out);

// CheckPolicyListeners reports a rule that names a listener the config does not have: such a
// rule could never match, which is always a typo.
void CheckPolicyListeners(Errors* errors, const PolicyConfig& policy,
                          const std::vector<ListenerConfig>& listeners);

}  // namespace deputy::config_json
