#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace deputy::test {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// FindHeader returns the value of the first header called `name`, compared case-insensitively.
std::optional<std::string> FindHeader(const HeaderList& headers, std::string_view name);

// HttpHead is an HTTP/1.x message head: the start line and the header fields in order.
struct HttpHead {
  std::string start_line;
  HeaderList headers;

  std::optional<std::string> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
};

// FindHeadEnd returns the length of the head in `data` including its closing empty line, or
// std::string_view::npos while the head is incomplete.
size_t FindHeadEnd(std::string_view data);

// ParseHttpHead parses a complete head (as measured by FindHeadEnd); nullopt if it is malformed.
std::optional<HttpHead> ParseHttpHead(std::string_view head);

}  // namespace deputy::test
