#include "base/untrusted_text.h"

namespace deputy {

namespace {

constexpr size_t kMaxQuotedLength = 80;

}  // namespace

std::string Printable(std::string_view text, PrintableOptions options) {
  const std::string_view shown = text.substr(0, options.max_length);
  std::string out;
  out.reserve(shown.size() + 3);
  for (char c : shown) {
    const auto u = static_cast<unsigned char>(c);
    const bool printable = u >= 0x20 && u < 0x7f;
    const bool masked = options.mask_quotes && (c == '"' || c == '\\');
    const bool newline = options.keep_newlines && c == '\n';
    out += ((printable && !masked) || newline) ? c : '?';
  }
  if (shown.size() < text.size()) out += "...";
  return out;
}

std::string QuoteUntrusted(std::string_view text) {
  return "\"" + Printable(text, {.max_length = kMaxQuotedLength, .mask_quotes = true}) + "\"";
}

}  // namespace deputy
