#pragma once

#include <algorithm>
#include <string>
#include <string_view>

namespace deputy {

// Protocol tokens (header names, auth schemes) compare without regard to ASCII case.
inline bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// AsciiLower lower-cases ASCII letters only: DNS names compare this way (RFC 4343).
inline std::string AsciiLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

// HasControlCharacter says whether `text` holds a C0 control or DEL, which no user name or
// password may (RFC 7617), and which could forge a log line.
inline bool HasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

// TrimWhitespace drops the spaces and tabs HTTP allows around a field value.
inline std::string_view TrimWhitespace(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

}  // namespace deputy
