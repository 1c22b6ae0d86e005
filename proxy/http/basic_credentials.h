#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace deputy {

// BasicCredentials is what a client sent in `Proxy-Authorization: Basic` (RFC 7617).
struct BasicCredentials {
  std::string user;
  std::string password;
};

// ParseBasicCredentials reads a Proxy-Authorization field value. Another scheme is
// kAuthRequired (the client may retry with Basic); a Basic value that is not base64 of
// "user:password", or whose user is empty or holds control characters, is kBadRequest.
Result<BasicCredentials> ParseBasicCredentials(std::string_view value);

}  // namespace deputy
