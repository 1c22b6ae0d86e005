#pragma once

#include <openssl/sha.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace deputy::test {

// RandomBytes returns `n` bytes from BoringSSL's CSPRNG (fast enough for hundreds of MiB).
std::string RandomBytes(size_t n);

// Sha256Hex is the lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// Sha256Stream hashes data that arrives in pieces, so large transfers need not be kept whole.
class Sha256Stream {
 public:
  Sha256Stream() { SHA256_Init(&ctx_); }
  void Update(std::string_view data) { SHA256_Update(&ctx_, data.data(), data.size()); }
  // HexDigest finishes the hash; the stream must not be updated afterwards.
  std::string HexDigest();

 private:
  SHA256_CTX ctx_;
};

}  // namespace deputy::test
