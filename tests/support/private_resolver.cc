#include "support/private_resolver.h"

#include <unistd.h>

#include <optional>

#include "support/subprocess.h"

namespace deputy::test {

bool CanUnshareMounts(std::string* why) {
  if (geteuid() != 0) {
    *why = "needs root, to bind-mount a private /etc/resolv.conf in a mount namespace";
    return false;
  }
  std::string error;
  std::optional<Child> child = Spawn({"/usr/bin/unshare", "--mount", "/bin/true"}, &error);
  std::optional<int> status = child ? WaitForExit(child->pid, kDefaultTimeout) : std::nullopt;
  if (status != 0) {
    *why = "`unshare --mount` fails here (no CAP_SYS_ADMIN?) " + error;
    return false;
  }
  return true;
}

std::vector<std::string> PrivateResolverLauncher(const TempDir& dir, const std::string& nameserver,
                                                 const std::string& options,
                                                 const std::string& search) {
  std::string text = "nameserver " + nameserver + "\noptions " + options + "\n";
  if (!search.empty()) text += "search " + search + "\n";
  std::string resolv_conf = dir.Write("resolv.conf", text);
  return {"/usr/bin/unshare",
          "--mount",
          "--propagation",
          "private",
          "/bin/sh",
          "-c",
          "mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"",
          resolv_conf};
}

}  // namespace deputy::test
