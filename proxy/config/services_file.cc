#include "config/services_file.h"

#include <charconv>
#include <vector>

#include "base/text_file.h"

namespace deputy {

namespace {

std::string ToLowerAscii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> fields;
  constexpr std::string_view kBlank = " \t\r\f\v";
  size_t start = line.find_first_not_of(kBlank);
  while (start != std::string_view::npos) {
    const size_t end = line.find_first_of(kBlank, start);
    fields.push_back(line.substr(start, end - start));
    if (end == std::string_view::npos) break;
    start = line.find_first_not_of(kBlank, end);
  }
  return fields;
}

// TcpPort reads "port/tcp" (protocol compared ignoring case); nullopt for another protocol or a
// port outside 1-65535.
std::optional<uint16_t> TcpPort(std::string_view field) {
  const size_t slash = field.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  if (ToLowerAscii(field.substr(slash + 1)) != "tcp") return std::nullopt;
  const std::string_view digits = field.substr(0, slash);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || port == 0 ||
      port > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(port);
}

}  // namespace

ServicesTable ServicesTable::Parse(std::string_view text) {
  ServicesTable table;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    line = line.substr(0, line.find('#'));
    const std::vector<std::string_view> fields = Fields(line);
    if (fields.size() < 2) continue;
    const std::optional<uint16_t> port = TcpPort(fields[1]);
    if (!port) continue;
    table.names_.emplace(*port, std::string(fields[0]));
    table.ports_.emplace(ToLowerAscii(fields[0]), *port);
    for (size_t i = 2; i < fields.size(); ++i) table.ports_.emplace(ToLowerAscii(fields[i]), *port);
  }
  return table;
}

Result<ServicesTable> ServicesTable::Load(const std::string& path) {
  Result<std::string> text = ReadTextFile(path, kMaxFileBytes);
  if (!text.ok()) return text.status();
  return Parse(*text);
}

std::optional<uint16_t> ServicesTable::PortOf(std::string_view name) const {
  const auto it = ports_.find(ToLowerAscii(name));
  if (it == ports_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> ServicesTable::NameOf(uint16_t port) const {
  const auto it = names_.find(port);
  if (it == names_.end()) return std::nullopt;
  return it->second;
}

}  // namespace deputy
