#pragma once

#include <string>
#include <utility>
#include <vector>

namespace deputy::test {

// HashPassword is a crypt(3) hash of `password` with a fresh salt, made by libxcrypt as
// mkpasswd would: `prefix` picks the method ("$y$" yescrypt, "$2b$" bcrypt, "$6$"
// sha512-crypt) and `cost` its work factor (0: libxcrypt's default).
std::string HashPassword(const std::string& password, const std::string& prefix = "$y$",
                         unsigned long cost = 0);

// UsersFileText is a users file with one "user:hash" line per (user, hash) pair.
std::string UsersFileText(const std::vector<std::pair<std::string, std::string>>& users);

}  // namespace deputy::test
