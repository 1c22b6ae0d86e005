#include "session/route_plan.h"

namespace deputy {

Result<std::vector<Target>> DirectRoute(const Destination& destination, Fallback fallback,
                                        const std::string& why) {
  if (fallback == Fallback::kDeny) {
    return Status(ErrorCode::kDenied, why + " and the fallback policy is deny");
  }
  if (!destination.port) {
    return Status(ErrorCode::kDenied,
                  why + " and no port is known for service \"" + destination.service + "\"");
  }
  Target target;
  target.host = destination.domain;
  target.port = *destination.port;
  target.domain = destination.domain;
  return std::vector<Target>{target};
}

Result<std::vector<Target>> PlanRoute(const Delegation& delegation, const Destination& destination,
                                      Fallback fallback, std::mt19937_64& rng) {
  switch (delegation.kind) {
    case Delegation::Kind::kTargets:
      return OrderTargets(delegation.targets, rng);
    case Delegation::Kind::kEmpty:
      return Status(ErrorCode::kDenied, destination.domain + " publishes an empty delegation for " +
                                            destination.service + ": it offers no such service");
    case Delegation::Kind::kNotDelegated:
      return DirectRoute(destination, fallback,
                         destination.domain + " does not delegate " + destination.service +
                             " (HTTP " + std::to_string(delegation.http_status) + ")");
  }
  return Status(ErrorCode::kInternal, "unknown delegation kind");
}

}  // namespace deputy
