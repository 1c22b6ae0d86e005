#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"

namespace deputy {

// UsersTable is a users file: one "user:hash" line per proxy user, the hash in crypt(3) form
// (yescrypt "$y$", bcrypt "$2b$", sha512-crypt "$6$", ...), as `mkpasswd` writes them. Blank
// lines and lines starting with '#' are skipped.
class UsersTable {
 public:
  static constexpr size_t kMaxFileBytes = 16 << 20;

  // Parse refuses the whole file at the first bad line (no ':', an empty or duplicate user, a
  // user with control characters, a hash libxcrypt cannot verify or calls legacy, such as DES
  // or md5-crypt), naming `source` and the line number: a half-read file would lock users out
  // or let a typo pass.
  static Result<UsersTable> Parse(std::string_view text, const std::string& source);
  static Result<UsersTable> Load(const std::string& path);

  // HashOf is the stored hash of `user`, or nullptr.
  const std::string* HashOf(std::string_view user) const;
  // AnyHash is a stored hash to spend the same work on for an unknown user, so that a wrong
  // user name takes as long as a wrong password; nullptr when the file has no user.
  const std::string* AnyHash() const { return users_.empty() ? nullptr : &users_.begin()->second; }
  size_t size() const { return users_.size(); }
  // MixedSettings says whether the hashes differ in method or cost: then an unknown user
  // (hashed like AnyHash) can take another time than a known one, which tells users apart.
  bool MixedSettings() const { return mixed_settings_; }

 private:
  std::unordered_map<std::string, std::string> users_;
  bool mixed_settings_ = false;
};

}  // namespace deputy
