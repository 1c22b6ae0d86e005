#include "auth/credential_cache.h"

#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>

namespace deputy {

CredentialCache::CredentialCache(std::chrono::seconds ttl, size_t max_entries)
    : ttl_(ttl), max_entries_(std::max<size_t>(max_entries, 1)) {
  RAND_bytes(key_.data(), key_.size());
}

std::string CredentialCache::Digest(std::string_view user, std::string_view password,
                                    std::string_view hash) const {
  // Lengths first, so that no two triples share an input.
  HMAC_CTX ctx;
  HMAC_CTX_init(&ctx);
  HMAC_Init_ex(&ctx, key_.data(), key_.size(), EVP_sha256(), nullptr);
  for (std::string_view part : {user, password, hash}) {
    const uint64_t length = part.size();
    HMAC_Update(&ctx, reinterpret_cast<const uint8_t*>(&length), sizeof(length));
    HMAC_Update(&ctx, reinterpret_cast<const uint8_t*>(part.data()), part.size());
  }
  uint8_t out[SHA256_DIGEST_LENGTH];
  unsigned length = 0;
  HMAC_Final(&ctx, out, &length);
  HMAC_CTX_cleanup(&ctx);
  return std::string(reinterpret_cast<const char*>(out), length);
}

bool CredentialCache::Contains(std::string_view user, std::string_view password,
                               std::string_view hash, Clock::time_point now) const {
  if (!enabled()) return false;
  const std::string digest = Digest(user, password, hash);
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(digest);
  return it != entries_.end() && now < it->second;
}

void CredentialCache::Insert(std::string_view user, std::string_view password,
                             std::string_view hash, Clock::time_point now) {
  if (!enabled()) return;
  std::string digest = Digest(user, password, hash);
  std::lock_guard lock(mutex_);
  if (entries_.size() >= max_entries_ && !entries_.contains(digest)) {
    std::erase_if(entries_, [&](const auto& entry) { return now >= entry.second; });
    if (entries_.size() >= max_entries_) entries_.erase(entries_.begin());
  }
  entries_[std::move(digest)] = now + ttl_;
}

}  // namespace deputy
