#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "delegation/document.h"
#include "delegation/interpret.h"
#include "net/dns_message.h"

namespace deputy {

// SrvNameFor is the SRV owner name deputy asks for `service` of `domain` (both lower-case):
// `_<service>._tcp.<domain>` (RFC 2782), except that XMPP's services take the direct-TLS
// records of XEP-0368, `_xmpps-client._tcp` and `_xmpps-server._tcp`: deputy speaks TLS from
// the first byte, and `_xmpp-client._tcp` names STARTTLS ports.
std::string SrvNameFor(const std::string& domain, const std::string& service);

// DelegationFromSrv turns the answer to the SRV query `name` for `domain` into a Delegation:
// records are targets whose certificate must be valid for `domain`, the delegating domain,
// never the SRV target (an intermediate name met during resolution is no reference identity,
// RFC 9525); a single record whose target is "." says the service is decidedly not available
// (kEmpty); NXDOMAIN and NODATA are kNotDelegated. Records with port 0, a target that is no DNS
// name or a single label dns.hosts does not name are skipped, each with a reason in `skipped`;
// when none is left the lookup fails (kDnsError).
Result<std::shared_ptr<const Delegation>> DelegationFromSrv(const DnsAnswer& answer,
                                                            const std::string& name,
                                                            const std::string& domain,
                                                            const StaticHostCheck& is_static_host,
                                                            std::vector<std::string>* skipped);

}  // namespace deputy
