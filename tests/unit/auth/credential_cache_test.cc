// A verified user:password is remembered for its TTL against the hash it matched, and no
// longer; the cache stays bounded.
#include "auth/credential_cache.h"

#include <gtest/gtest.h>

namespace deputy {
namespace {

using std::chrono::seconds;

const CredentialCache::Clock::time_point kStart{};

TEST(CredentialCache, RemembersForTheTtlOnlyTheExactTriple) {
  CredentialCache cache(seconds(300), 10);
  cache.Insert("alice", "secret", "$y$hash", kStart);
  EXPECT_TRUE(cache.Contains("alice", "secret", "$y$hash", kStart + seconds(299)));
  EXPECT_FALSE(cache.Contains("alice", "secret", "$y$hash", kStart + seconds(300)));
  EXPECT_FALSE(cache.Contains("alice", "wrong", "$y$hash", kStart));
  EXPECT_FALSE(cache.Contains("alice", "secret", "$y$other", kStart));  // a reloaded hash
  EXPECT_FALSE(cache.Contains("alicesecret", "", "$y$hash", kStart));
  EXPECT_FALSE(cache.Contains("alic", "esecret", "$y$hash", kStart));
}

TEST(CredentialCache, AZeroTtlRemembersNothing) {
  CredentialCache cache(seconds(0), 10);
  EXPECT_FALSE(cache.enabled());
  cache.Insert("alice", "secret", "$y$hash", kStart);
  EXPECT_FALSE(cache.Contains("alice", "secret", "$y$hash", kStart));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(CredentialCache, StaysBounded) {
  CredentialCache cache(seconds(10), 4);
  for (int i = 0; i < 20; ++i) {
    cache.Insert("user" + std::to_string(i), "pw", "$y$hash", kStart + seconds(i));
    EXPECT_LE(cache.size(), 4u);
  }
  EXPECT_TRUE(cache.Contains("user19", "pw", "$y$hash", kStart + seconds(19)));
}

}  // namespace
}  // namespace deputy
