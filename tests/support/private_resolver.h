#pragma once

#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace deputy::test {

// CanUnshareMounts says whether this process may run a command in a private mount namespace
// (root with CAP_SYS_ADMIN); when not, `why` says what is missing.
bool CanUnshareMounts(std::string* why);

// PrivateResolverLauncher is a launcher (DeputyProcess::SetLauncher) that runs deputy with
// `nameserver` as its only name server: a resolv.conf written to `dir` is bind-mounted over
// /etc/resolv.conf inside deputy's own mount namespace, so the test machine's resolver is left
// alone. `options` is resolv.conf's options line, e.g. "timeout:30 attempts:1"; `search`, when
// given, its search line.
std::vector<std::string> PrivateResolverLauncher(const TempDir& dir, const std::string& nameserver,
                                                 const std::string& options,
                                                 const std::string& search = "");

}  // namespace deputy::test
