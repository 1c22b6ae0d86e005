#include "delegation/srv_delegation.h"

#include "base/untrusted_text.h"
#include "net/names.h"

namespace deputy {

std::string SrvNameFor(const std::string& domain, const std::string& service) {
  std::string label = service;
  if (service == "xmpp-client") label = "xmpps-client";
  if (service == "xmpp-server") label = "xmpps-server";
  return "_" + label + "._tcp." + domain;
}

Result<std::shared_ptr<const Delegation>> DelegationFromSrv(const DnsAnswer& answer,
                                                            const std::string& name,
                                                            const std::string& domain,
                                                            const StaticHostCheck& is_static_host,
                                                            std::vector<std::string>* skipped) {
  auto delegation = std::make_shared<Delegation>();
  delegation->source = DiscoverySource::kSrv;
  delegation->url = name;
  delegation->ttl_s = answer.ttl_s.value_or(0);
  if (answer.kind != DnsAnswer::Kind::kRecords) {
    delegation->kind = Delegation::Kind::kNotDelegated;
    return std::shared_ptr<const Delegation>(std::move(delegation));
  }
  // RFC 2782: "." as the only target means the service is decidedly not available here.
  if (answer.services.size() == 1 && answer.services[0].target.empty()) {
    delegation->kind = Delegation::Kind::kEmpty;
    return std::shared_ptr<const Delegation>(std::move(delegation));
  }
  for (size_t i = 0; i < answer.services.size(); ++i) {
    const SrvRecord& record = answer.services[i];
    const std::string which = "record " + std::to_string(i) + ": ";
    if (record.target.empty()) {
      skipped->push_back(which + "target \".\" beside other records");
      continue;
    }
    if (record.port == 0) {
      skipped->push_back(which + "port 0");
      continue;
    }
    Result<std::string> host = NormalizeDomain(record.target);
    if (!host.ok()) {
      skipped->push_back(which + "target " + host.status().message());
      continue;
    }
    if (host->find('.') == std::string::npos && !is_static_host(*host)) {
      skipped->push_back(which + "target " + QuoteUntrusted(*host) +
                         " is a single label, accepted only when dns.hosts names it");
      continue;
    }
    delegation->targets.push_back(
        Target{std::move(host).value(), record.port, domain, record.priority, record.weight});
  }
  if (delegation->targets.empty()) {
    return Status(ErrorCode::kDnsError, "the SRV records of " + name + " have no usable target");
  }
  return std::shared_ptr<const Delegation>(std::move(delegation));
}

}  // namespace deputy
