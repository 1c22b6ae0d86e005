#include "auth/users_file.h"

#include <crypt.h>

#include <algorithm>

#include "base/ascii.h"
#include "base/text_file.h"
#include "base/untrusted_text.h"

namespace deputy {

namespace {

// HashProblem says why libxcrypt will not verify against `hash`, or "" when it will.
std::string HashProblem(const std::string& hash) {
  constexpr const char* kUnknown =
      "is not a crypt(3) hash libxcrypt knows (yescrypt $y$, bcrypt $2b$, sha512-crypt $6$, ...)";
  // Every modern method starts with '$'; without one it is DES at best, a password at worst.
  if (hash.empty() || hash.front() != '$') return kUnknown;
  switch (crypt_checksalt(hash.c_str())) {
    case CRYPT_SALT_OK:
      return "";
    case CRYPT_SALT_METHOD_LEGACY:
      return "is a legacy hash (md5-crypt and the like are weak); use yescrypt, bcrypt or "
             "sha512-crypt";
    case CRYPT_SALT_METHOD_DISABLED:
      return "uses a hashing method this libxcrypt has disabled";
    default:
      return kUnknown;
  }
}

// SettingOf is a hash's method and cost, without salt and digest: bcrypt's "$2b$05$", or up
// to the salt for the others ("$y$j9T$", "$6$", "$6$rounds=9000$").
std::string_view SettingOf(std::string_view hash) {
  if (hash.starts_with("$2")) return hash.substr(0, 7);
  const size_t digest = hash.rfind('$');
  const size_t salt = digest == 0 ? std::string_view::npos : hash.rfind('$', digest - 1);
  return salt == std::string_view::npos ? hash : hash.substr(0, salt + 1);
}

}  // namespace

Result<UsersTable> UsersTable::Parse(std::string_view text, const std::string& source) {
  UsersTable table;
  size_t number = 0;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos || line.front() == '#') continue;
    const std::string where = source + " line " + std::to_string(number) + ": ";
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return Status(ErrorCode::kInvalidConfig, where + "expected user:hash");
    }
    const std::string_view user = line.substr(0, colon);
    // A hash never holds ':'; a trailing field (as in /etc/shadow) is a file of another kind.
    const std::string hash(line.substr(colon + 1));
    if (user.empty() || HasControlCharacter(user)) {
      return Status(ErrorCode::kInvalidConfig,
                    where + "user " + QuoteUntrusted(user) + " is empty or has control characters");
    }
    if (hash.find(':') != std::string::npos) {
      return Status(ErrorCode::kInvalidConfig, where + "expected user:hash, got more fields");
    }
    if (std::string problem = HashProblem(hash); !problem.empty()) {
      return Status(ErrorCode::kInvalidConfig,
                    where + "the hash of " + QuoteUntrusted(user) + " " + problem);
    }
    if (!table.users_.empty() && SettingOf(table.users_.begin()->second) != SettingOf(hash)) {
      table.mixed_settings_ = true;
    }
    if (!table.users_.emplace(user, hash).second) {
      return Status(ErrorCode::kInvalidConfig,
                    where + "user " + QuoteUntrusted(user) + " appears on an earlier line too");
    }
  }
  return table;
}

Result<UsersTable> UsersTable::Load(const std::string& path) {
  Result<std::string> text = ReadTextFile(path, kMaxFileBytes);
  if (!text.ok()) return text.status();
  return Parse(*text, path);
}

const std::string* UsersTable::HashOf(std::string_view user) const {
  const auto it = users_.find(std::string(user));
  return it == users_.end() ? nullptr : &it->second;
}

}  // namespace deputy
