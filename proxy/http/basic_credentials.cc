#include "http/basic_credentials.h"

#include <openssl/base64.h>
#include <openssl/mem.h>

#include <algorithm>
#include <vector>

#include "base/ascii.h"
#include "base/untrusted_text.h"

namespace deputy {

Result<BasicCredentials> ParseBasicCredentials(std::string_view value) {
  const size_t space = value.find(' ');
  const std::string_view scheme = value.substr(0, space);
  if (!EqualsIgnoringAsciiCase(scheme, "basic")) {
    return Status(
        ErrorCode::kAuthRequired,
        "proxy authentication scheme " + QuoteUntrusted(scheme) + " is not supported; use Basic");
  }
  std::string_view token = space == std::string_view::npos ? "" : value.substr(space);
  token.remove_prefix(std::min(token.find_first_not_of(' '), token.size()));
  if (token.empty()) return Status(ErrorCode::kBadRequest, "Basic credentials are empty");
  size_t capacity = 0;
  if (!EVP_DecodedLength(&capacity, token.size())) {
    return Status(ErrorCode::kBadRequest, "Basic credentials are not base64");
  }
  std::vector<uint8_t> decoded(capacity);
  size_t length = 0;
  if (!EVP_DecodeBase64(decoded.data(), &length, decoded.size(),
                        reinterpret_cast<const uint8_t*>(token.data()), token.size())) {
    return Status(ErrorCode::kBadRequest, "Basic credentials are not base64");
  }
  const std::string_view pair(reinterpret_cast<const char*>(decoded.data()), length);
  const size_t colon = pair.find(':');
  Result<BasicCredentials> result = Status(ErrorCode::kBadRequest, "");
  if (colon == std::string_view::npos) {
    result = Status(ErrorCode::kBadRequest, "Basic credentials are not user:password");
  } else if (colon == 0) {
    result = Status(ErrorCode::kBadRequest, "Basic credentials have an empty user name");
  } else if (HasControlCharacter(pair)) {
    result = Status(ErrorCode::kBadRequest, "Basic credentials hold control characters");
  } else {
    result =
        BasicCredentials{std::string(pair.substr(0, colon)), std::string(pair.substr(colon + 1))};
  }
  // The password must not linger in freed memory.
  OPENSSL_cleanse(decoded.data(), decoded.size());
  return result;
}

}  // namespace deputy
