#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace deputy {

// Text from the network, a client or a publisher is shown to people (logs, Proxy-Status details,
// an operator's terminal) only through these, so hostile bytes can neither flood nor forge a
// line nor send escape sequences.

struct PrintableOptions {
  size_t max_length = std::string_view::npos;  // longer text is cut and ends in "..."
  bool keep_newlines = false;                  // '\n' stays (multi-line output to a terminal)
  bool mask_quotes = false;                    // '"' and '\\' become '?' too (quoted contexts)
};

// Printable keeps printable ASCII and shows every other byte as '?'.
std::string Printable(std::string_view text, PrintableOptions options = {});

// QuoteUntrusted is `text` for a log or error message: in double quotes, at most 80 characters
// (then "..."), control, non-ASCII, quote and backslash bytes shown as '?'.
std::string QuoteUntrusted(std::string_view text);

}  // namespace deputy
