#include "support/http_head.h"

#include <strings.h>

namespace deputy::test {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> FindHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) {
      return value;
    }
  }
  return std::nullopt;
}

size_t FindHeadEnd(std::string_view data) {
  size_t pos = data.find("\r\n\r\n");
  return pos == std::string_view::npos ? pos : pos + 4;
}

std::optional<HttpHead> ParseHttpHead(std::string_view head) {
  HttpHead out;
  size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos || eol == 0) return std::nullopt;
  out.start_line = std::string(head.substr(0, eol));
  head.remove_prefix(eol + 2);
  for (;;) {
    eol = head.find("\r\n");
    if (eol == std::string_view::npos) return std::nullopt;
    if (eol == 0) return out;  // the empty line ending the head
    std::string_view line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    out.headers.emplace_back(std::string(line.substr(0, colon)),
                             std::string(Trim(line.substr(colon + 1))));
  }
}

}  // namespace deputy::test
