#include "support/password_hash.h"

#include <crypt.h>

#include "support/die.h"

namespace deputy::test {

std::string HashPassword(const std::string& password, const std::string& prefix,
                         unsigned long cost) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn(prefix.c_str(), cost, nullptr, 0, setting, sizeof(setting)) == nullptr) {
    Die("crypt_gensalt_rn failed for " + prefix);
  }
  crypt_data data{};
  const char* hash = crypt_rn(password.c_str(), setting, &data, sizeof(data));
  if (hash == nullptr) Die("crypt_rn failed for " + prefix);
  return hash;
}

std::string UsersFileText(const std::vector<std::pair<std::string, std::string>>& users) {
  std::string text;
  for (const auto& [user, hash] : users) text += user + ":" + hash + "\n";
  return text;
}

}  // namespace deputy::test
