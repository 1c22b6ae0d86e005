#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace deputy {

// Service names and TCP ports map both ways through `config.services` first, then the system
// services database (/etc/services through NSS). A name the config maps is the config's alone:
// the system's entry for that name is not used, in either direction. Both are safe to call from
// any thread.

// ServiceForPort names the service on TCP `port`, or nullopt when neither source knows one or
// the system's name is not a valid RFC 6335 service name (it could not form a delegation URL).
// When several config names share a port, the alphabetically first wins.
std::optional<std::string> ServiceForPort(uint16_t port, const Config& config);

// PortForService gives the TCP port of `service`, or nullopt when it is unknown or not a valid
// service name. Names are compared as given (no case folding).
std::optional<uint16_t> PortForService(std::string_view service, const Config& config);

}  // namespace deputy
