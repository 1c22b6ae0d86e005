#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"

namespace deputy {

inline constexpr char kSystemServicesPath[] = "/etc/services";

// ServicesTable is the TCP part of a services(5) file, parsed once so that no lookup goes
// through NSS (getservbyname may block, and would run on the event loop).
class ServicesTable {
 public:
  // Files beyond this are refused rather than read (netbase's /etc/services is about 12 KiB).
  static constexpr size_t kMaxFileBytes = 4 << 20;

  // Parse reads services(5) lines, "name port/protocol [alias ...]", where '#' starts a
  // comment. Only tcp entries count; a malformed line is skipped. When a name (or alias) or a
  // port appears on several lines, the first wins, as with NSS's files backend.
  static ServicesTable Parse(std::string_view text);
  // Load reads the file at `path` and parses it.
  static Result<ServicesTable> Load(const std::string& path);

  // PortOf gives the port of `name`, an entry's name or alias, compared ignoring ASCII case.
  std::optional<uint16_t> PortOf(std::string_view name) const;
  // NameOf gives the name (not an alias) of the first entry for `port`, as the file writes it.
  std::optional<std::string> NameOf(uint16_t port) const;
  bool empty() const { return names_.empty(); }

 private:
  std::unordered_map<std::string, uint16_t> ports_;  // lower-case name or alias -> port
  std::unordered_map<uint16_t, std::string> names_;  // port -> name
};

}  // namespace deputy
