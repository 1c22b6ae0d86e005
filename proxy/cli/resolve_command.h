#pragma once

#include <string>

#include "config/config.h"

namespace deputy {

// Exit codes of `deputy resolve`.
inline constexpr int kResolveDelegated = 0;
inline constexpr int kResolveFailed = 1;
inline constexpr int kResolveNotDelegated = 3;

// RunResolve asks discovery.sources in order for the delegation of (domain, service) and prints
// what each said (the document and its cache lifetime, or each SRV record), which source
// answered and the ordered targets, then checks whether the first target's certificate
// verifies.
int RunResolve(const Config& config, const std::string& domain, const std::string& service);

}  // namespace deputy
