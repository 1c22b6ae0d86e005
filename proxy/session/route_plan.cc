#include "session/route_plan.h"

namespace deputy {

Result<std::vector<Target>> DirectRoute(const Destination& destination, const std::string& why) {
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

std::string NotDelegatedReason(const Delegation& delegation, const Destination& destination) {
  if (delegation.source == DiscoverySource::kSrv) {
    return destination.domain + " does not delegate " + destination.service + " (no SRV record " +
           delegation.url + ")";
  }
  return destination.domain + " does not delegate " + destination.service + " (HTTP " +
         std::to_string(delegation.http_status) + ")";
}

Result<std::vector<Target>> PlanRoute(const Delegation& delegation, const Destination& destination,
                                      std::mt19937_64& rng) {
  switch (delegation.kind) {
    case Delegation::Kind::kTargets:
      return OrderTargets(delegation.targets, rng);
    case Delegation::Kind::kEmpty:
      if (delegation.source == DiscoverySource::kSrv) {
        return Status(ErrorCode::kDenied, destination.domain + " says " + destination.service +
                                              " is decidedly not available (SRV " + delegation.url +
                                              " has the target \".\")");
      }
      return Status(ErrorCode::kDenied, destination.domain + " publishes an empty delegation for " +
                                            destination.service + ": it offers no such service");
    case Delegation::Kind::kNotDelegated:
      return Status(ErrorCode::kInternal, NotDelegatedReason(delegation, destination) +
                                              ", which no discovery source took up");
  }
  return Status(ErrorCode::kInternal, "unknown delegation kind");
}

}  // namespace deputy
