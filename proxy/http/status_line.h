#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace deputy {

// ReasonPhrase is the standard reason phrase for the statuses deputy sends or meets (and the
// test fixtures serve).
std::string_view ReasonPhrase(int status);

// ProxyStatusValue is an RFC 9209 Proxy-Status field value for `status`, with the message as
// the `details` parameter (an sf-string: quotes and backslashes escaped, non-ASCII dropped).
std::string ProxyStatusValue(const Status& status);

// ErrorResponse is a complete HTTP/1.x error response for a refused client: status line,
// Proxy-Status, `extra_headers` (whole lines, each ending in CRLF), a one-line text body, and
// Connection: close.
std::string ErrorResponse(const Status& status, int http_minor,
                          std::string_view extra_headers = {});

}  // namespace deputy
