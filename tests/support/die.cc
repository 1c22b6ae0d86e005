#include "support/die.h"

#include <openssl/err.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace deputy::test {

void Die(std::string_view what) {
  std::fprintf(stderr, "test fixture failure: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

void DieErrno(std::string_view what) {
  int error = errno;
  Die(std::string(what) + ": " + std::strerror(error));
}

void DieSsl(std::string_view what) { Die(std::string(what) + ": " + SslErrorString()); }

std::string SslErrorString() {
  std::string out;
  while (uint32_t code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no BoringSSL error" : out;
}

}  // namespace deputy::test
