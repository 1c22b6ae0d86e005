// Fuzzes ParseBasicCredentials, which reads the Proxy-Authorization value any client sends to
// a listener with auth. The whole input is the field value.

#include <openssl/base64.h>

#include <string>
#include <string_view>

#include "fuzz/fuzzer.h"
#include "http/basic_credentials.h"

namespace deputy::fuzz::basic_credentials {
namespace {

std::string Encode(std::string_view text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  out.resize(EVP_EncodeBlock(reinterpret_cast<uint8_t*>(out.data()),
                             reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  return out;
}

bool HasControl(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

DEPUTY_FUZZER(basic_credentials) {
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  const Result<BasicCredentials> parsed = ParseBasicCredentials(value);
  if (!parsed.ok()) {
    DEPUTY_FUZZ_CHECK(parsed.status().code() == ErrorCode::kBadRequest ||
                      parsed.status().code() == ErrorCode::kAuthRequired);
    DEPUTY_FUZZ_CHECK(IsPrintableAscii(parsed.status().message()));
    return;
  }
  // A user is never empty, never holds the separator, and nothing holds a control byte that
  // could forge a log line.
  DEPUTY_FUZZ_CHECK(!parsed->user.empty());
  DEPUTY_FUZZ_CHECK(parsed->user.find(':') == std::string::npos);
  DEPUTY_FUZZ_CHECK(!HasControl(parsed->user) && !HasControl(parsed->password));
  // The canonical form of what was read reads back the same.
  const Result<BasicCredentials> again =
      ParseBasicCredentials("Basic " + Encode(parsed->user + ":" + parsed->password));
  DEPUTY_FUZZ_CHECK(again.ok() && again->user == parsed->user &&
                    again->password == parsed->password);
}

}  // namespace deputy::fuzz::basic_credentials
