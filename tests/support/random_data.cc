#include "support/random_data.h"

#include <openssl/rand.h>

namespace deputy::test {

namespace {

std::string ToHex(const uint8_t* digest, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[digest[i] >> 4];
    out += kDigits[digest[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  RAND_bytes(reinterpret_cast<uint8_t*>(out.data()), n);
  return out;
}

std::string Sha256Hex(std::string_view data) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(data.data()), data.size(), digest);
  return ToHex(digest, sizeof(digest));
}

std::string Sha256Stream::HexDigest() {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256_Final(digest, &ctx_);
  return ToHex(digest, sizeof(digest));
}

}  // namespace deputy::test
