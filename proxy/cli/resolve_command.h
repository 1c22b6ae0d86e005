#pragma once

#include <string>

#include "config/config.h"

namespace deputy {

// Exit codes of `deputy resolve`.
inline constexpr int kResolveDelegated = 0;
inline constexpr int kResolveFailed = 1;
inline constexpr int kResolveNotDelegated = 3;

// RunResolve fetches and prints the delegation of (domain, service), its cache lifetime and the
// ordered targets, then checks whether the first target's certificate verifies.
int RunResolve(const Config& config, const std::string& domain, const std::string& service);

}  // namespace deputy
