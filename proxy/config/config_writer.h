#pragma once

#include <nlohmann/json.hpp>

#include "config/config.h"

namespace deputy {

// EffectiveConfig is `config` as a config file: every key, defaults included, in the form the
// loader reads, so that ParseConfig of it gives `config` back (admin's /debug/config). The
// configuration holds no secret values, only the paths of the files that hold them (users
// files, keys, the admin token), which are shown; their contents never are.
nlohmann::json EffectiveConfig(const Config& config);

}  // namespace deputy
