#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/services_file.h"

namespace deputy {

// Service names and TCP ports map both ways through `config.services` first, then the system
// services table (/etc/services). A name the config maps is the config's alone: the system's
// entry for that name is not used, in either direction. Names are compared ignoring case. All
// of these are safe to call from any thread.

// SystemServices is /etc/services, read the first time it is asked for (`deputy run` asks at
// start, before the event loop runs) and never again. When the file cannot be read it is empty
// and a warning says why: only `config.services` then maps names and ports.
const ServicesTable& SystemServices();

// ServiceForPort names the service on TCP `port`, or nullopt when neither source knows one or
// the system's name is not a valid RFC 6335 service name (it could not form a delegation URL).
// When several config names share a port, the alphabetically first wins.
std::optional<std::string> ServiceForPort(uint16_t port, const Config& config,
                                          const ServicesTable& system = SystemServices());

// PortForService gives the TCP port of `service`, or nullopt when it is unknown or not a valid
// service name.
std::optional<uint16_t> PortForService(std::string_view service, const Config& config,
                                       const ServicesTable& system = SystemServices());

}  // namespace deputy
