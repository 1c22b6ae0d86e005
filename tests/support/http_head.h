#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/wait.h"

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

// ReadHeadFrom reads from `conn` (anything with ReadSome(buf, n, timeout), TCP or TLS) into
// `*data` until it holds a complete head; bytes past the head stay in `*data`. False on close,
// error or timeout, or once `max_bytes` arrived without a complete head.
template <typename Connection>
bool ReadHeadFrom(Connection& conn, std::string* data, size_t max_bytes = 64 * 1024,
                  Millis timeout = kDefaultTimeout) {
  Deadline deadline(timeout);
  char buf[4096];
  while (FindHeadEnd(*data) == std::string_view::npos) {
    if (data->size() >= max_bytes) return false;
    auto n = conn.ReadSome(buf, sizeof(buf), deadline.Remaining());
    if (n <= 0) return false;
    data->append(buf, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace deputy::test
