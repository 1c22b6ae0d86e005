#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "config/config.h"

namespace deputy {

// ParseConfig reads a JSON config document (no comments) and validates all of it: unknown keys,
// duplicate keys, wrong types and impossible values are errors. Keys left out keep the defaults
// of config.h. Errors are kInvalidConfig; their message starts with the JSON path of the
// offending value, e.g. `listeners[1].address: "127.0.0.1:99999" is not a valid address:port`,
// or with "config: " for the document as a whole (syntax errors give line and column).
// Domain names come back lower-cased without a trailing dot; addresses in canonical form.
Result<Config> ParseConfig(std::string_view json_text);

// LoadConfig reads the file at `path` and parses it as ParseConfig does. Every error message,
// including a file that cannot be read, starts with the path.
Result<Config> LoadConfig(const std::string& path);

// CheckFilesReadable checks that the files the config names (discovery.ca_file and
// upstream.ca_file) can be opened and read now. Loading does not do this, since a config may be
// checked on another machine; `deputy check` and startup do.
Status CheckFilesReadable(const Config& config);

// ParseSocketAddress accepts "IPv4:port" or "[IPv6]:port" with a decimal port from 0 to 65535.
// The host comes back in canonical form ("[0:0::1]:1" gives host "::1").
Result<SocketAddress> ParseSocketAddress(std::string_view text);

}  // namespace deputy
