#include "delegation/cache_index.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace deputy {
namespace {

using Clock = CacheIndex::Clock;
using Key = CacheIndex::Key;

std::shared_ptr<const Delegation> NotDelegated() {
  auto delegation = std::make_shared<Delegation>();
  delegation->kind = Delegation::Kind::kNotDelegated;
  delegation->http_status = 404;
  return delegation;
}

std::shared_ptr<const Delegation> WithTargets(size_t count, size_t name_length) {
  auto delegation = std::make_shared<Delegation>();
  for (size_t i = 0; i < count; ++i) {
    delegation->targets.push_back(
        Target{std::string(name_length, 'h'), 443, std::string(name_length, 'd'), 0, 0});
  }
  delegation->url = "https://example.org/.well-known/service/big";
  return delegation;
}

class CacheIndexTest : public ::testing::Test {
 protected:
  void Make(CacheIndex::Limits limits) {
    index_ = std::make_unique<CacheIndex>(limits,
                                          [this](EvictionReason reason) { ++evictions_[reason]; });
  }

  void Put(const Key& key, std::shared_ptr<const Delegation> delegation = NotDelegated(),
           Clock::duration ttl = std::chrono::hours(1)) {
    index_->Insert(key, key.first, std::move(delegation), now_ + ttl, now_);
  }

  void PutIn(const std::string& share, const Key& key) {
    index_->Insert(key, share, NotDelegated(), now_ + std::chrono::hours(1), now_);
  }

  bool Has(const Key& key) { return index_->Find(key, now_) != nullptr; }

  Clock::time_point now_ = Clock::now();
  std::unique_ptr<CacheIndex> index_;
  std::map<EvictionReason, int> evictions_;
};

TEST_F(CacheIndexTest, FullCacheEvictsTheLeastRecentlyUsedEntry) {
  Make({.max_entries = 3, .max_bytes = 1 << 20, .max_per_domain = 10});
  Put({"a.example", "s"});
  Put({"b.example", "s"});
  Put({"c.example", "s"});
  ASSERT_TRUE(Has({"a.example", "s"}));  // a is now more recent than b
  Put({"d.example", "s"});
  EXPECT_EQ(index_->size(), 3u);
  EXPECT_FALSE(Has({"b.example", "s"}));
  EXPECT_TRUE(Has({"a.example", "s"}));
  EXPECT_TRUE(Has({"c.example", "s"}));
  EXPECT_TRUE(Has({"d.example", "s"}));
  EXPECT_EQ(evictions_[EvictionReason::kLru], 1);
}

TEST_F(CacheIndexTest, LowerLimitsEvictTheLeastRecentlyUsedPerShareThenOverall) {
  Make({.max_entries = 10, .max_bytes = 1 << 20, .max_per_domain = 10});
  PutIn("one.example", {"a.one.example", "s"});
  PutIn("one.example", {"b.one.example", "s"});
  PutIn("one.example", {"c.one.example", "s"});
  PutIn("two.example", {"a.two.example", "s"});
  PutIn("three.example", {"a.three.example", "s"});
  ASSERT_TRUE(Has({"a.one.example", "s"}));  // b is now one.example's least recently used
  index_->SetLimits({.max_entries = 3, .max_bytes = 1 << 20, .max_per_domain = 2}, now_);
  EXPECT_EQ(index_->size(), 3u);
  EXPECT_EQ(evictions_[EvictionReason::kDomainShare], 1);
  EXPECT_EQ(evictions_[EvictionReason::kLru], 1);
  EXPECT_FALSE(Has({"b.one.example", "s"})) << "one.example's share kept its oldest";
  EXPECT_FALSE(Has({"c.one.example", "s"})) << "the least recently used of all stayed";
  EXPECT_TRUE(Has({"a.one.example", "s"}));
  EXPECT_TRUE(Has({"a.two.example", "s"}));
  EXPECT_TRUE(Has({"a.three.example", "s"}));

  index_->SetLimits({.max_entries = 10, .max_bytes = 1 << 20, .max_per_domain = 0}, now_);
  EXPECT_EQ(index_->size(), 0u) << "a share of none holds nothing";
  EXPECT_EQ(index_->ShareSize("one.example"), 0u);
}

TEST_F(CacheIndexTest, ClearRemovesEveryEntryCountedUnderItsReason) {
  Make({.max_entries = 10, .max_bytes = 1 << 20, .max_per_domain = 10});
  Put({"a.example", "s"});
  Put({"b.example", "s"});
  index_->Clear(EvictionReason::kReload);
  EXPECT_EQ(index_->size(), 0u);
  EXPECT_EQ(index_->bytes(), 0u);
  EXPECT_EQ(evictions_[EvictionReason::kReload], 2);
  Put({"a.example", "s"});
  EXPECT_TRUE(Has({"a.example", "s"})) << "a cleared index stores again";
}

TEST_F(CacheIndexTest, ByteBoundEvictsLeastRecentlyUsedUntilTheNewEntryFits) {
  const Key small_a{"a.example", "s"}, small_b{"b.example", "s"}, big{"c.example", "s"};
  const size_t small = CacheIndex::EstimateBytes(small_a, *NotDelegated());
  const size_t large = CacheIndex::EstimateBytes(big, *WithTargets(8, 100));
  // Room for both small entries, or one small and the large one, never all three.
  Make({.max_entries = 100, .max_bytes = small + large, .max_per_domain = 10});
  Put(small_a);
  Put(small_b);
  ASSERT_EQ(index_->bytes(), 2 * small);
  Put(big, WithTargets(8, 100));
  EXPECT_EQ(index_->bytes(), small + large);
  EXPECT_FALSE(Has(small_a));
  EXPECT_TRUE(Has(small_b));
  EXPECT_TRUE(Has(big));
  EXPECT_EQ(evictions_[EvictionReason::kLru], 1);
}

TEST_F(CacheIndexTest, ByteEstimateCountsKeyTargetsAndOverhead) {
  const Key key{"example.org", "xmpp-client"};
  auto delegation = WithTargets(2, 10);
  EXPECT_EQ(CacheIndex::EstimateBytes(key, *delegation),
            CacheIndex::kEntryOverhead + key.first.size() + key.second.size() +
                delegation->url.size() + 2 * (CacheIndex::kTargetOverhead + 10 + 10));
}

TEST_F(CacheIndexTest, EntryLargerThanTheWholeBudgetIsNotStored) {
  Make({.max_entries = 100, .max_bytes = 1000, .max_per_domain = 10});
  Put({"a.example", "s"});
  Put({"b.example", "s"}, WithTargets(10, 100));
  EXPECT_FALSE(Has({"b.example", "s"}));
  EXPECT_TRUE(Has({"a.example", "s"})) << "nothing is evicted for an entry that cannot fit";
}

TEST_F(CacheIndexTest, OneDomainBeyondItsShareEvictsItsOwnOldestEntry) {
  Make({.max_entries = 10, .max_bytes = 1 << 20, .max_per_domain = 3});
  Put({"victim.example", "xmpp-client"});
  for (int i = 0; i < 10000; ++i) Put({"attacker.example", "s" + std::to_string(i)});
  EXPECT_TRUE(Has({"victim.example", "xmpp-client"}));
  EXPECT_EQ(index_->ShareSize("attacker.example"), 3u);
  EXPECT_EQ(index_->size(), 4u);
  EXPECT_TRUE(Has({"attacker.example", "s9999"}));
  EXPECT_TRUE(Has({"attacker.example", "s9997"}));
  EXPECT_FALSE(Has({"attacker.example", "s9996"}));
  EXPECT_EQ(evictions_[EvictionReason::kDomainShare], 9997);
  EXPECT_EQ(evictions_[EvictionReason::kLru], 0);
}

TEST_F(CacheIndexTest, SubdomainsOfOneShareCountTogether) {
  Make({.max_entries = 10, .max_bytes = 1 << 20, .max_per_domain = 3});
  PutIn("victim.example", {"xmpp.victim.example", "xmpp-client"});
  for (int i = 0; i < 10000; ++i) {
    PutIn("attacker.example", {"n" + std::to_string(i) + ".attacker.example", "xmpp-client"});
  }
  EXPECT_TRUE(Has({"xmpp.victim.example", "xmpp-client"}));
  EXPECT_EQ(index_->ShareSize("attacker.example"), 3u);
  EXPECT_EQ(index_->ShareSize("victim.example"), 1u);
  EXPECT_TRUE(Has({"n9999.attacker.example", "xmpp-client"}));
  EXPECT_FALSE(Has({"n9996.attacker.example", "xmpp-client"}));
  EXPECT_EQ(evictions_[EvictionReason::kDomainShare], 9997);
  EXPECT_EQ(evictions_[EvictionReason::kLru], 0);
}

TEST_F(CacheIndexTest, DomainShareFollowsUseNotInsertionOrder) {
  Make({.max_entries = 10, .max_bytes = 1 << 20, .max_per_domain = 2});
  Put({"d.example", "first"});
  Put({"d.example", "second"});
  ASSERT_TRUE(Has({"d.example", "first"}));
  Put({"d.example", "third"});
  EXPECT_TRUE(Has({"d.example", "first"}));
  EXPECT_FALSE(Has({"d.example", "second"}));
  EXPECT_TRUE(Has({"d.example", "third"}));
}

TEST_F(CacheIndexTest, ExpiredEntriesCountUntilDroppedAndAreDroppedOnInsert) {
  Make({.max_entries = 2, .max_bytes = 1 << 20, .max_per_domain = 10});
  Put({"a.example", "s"}, NotDelegated(), std::chrono::seconds(1));
  Put({"b.example", "s"});
  EXPECT_EQ(index_->size(), 2u);
  now_ += std::chrono::seconds(2);
  EXPECT_EQ(index_->size(), 2u) << "an expired entry still holds its room";
  Put({"c.example", "s"});
  EXPECT_EQ(evictions_[EvictionReason::kExpired], 1);
  EXPECT_EQ(evictions_[EvictionReason::kLru], 0) << "the expired entry made the room";
  EXPECT_TRUE(Has({"b.example", "s"}));
  EXPECT_TRUE(Has({"c.example", "s"}));
}

TEST_F(CacheIndexTest, FindDropsAnExpiredEntry) {
  Make({.max_entries = 10, .max_bytes = 1 << 20, .max_per_domain = 10});
  Put({"a.example", "s"}, NotDelegated(), std::chrono::seconds(1));
  now_ += std::chrono::seconds(1);
  EXPECT_FALSE(Has({"a.example", "s"}));
  EXPECT_EQ(index_->size(), 0u);
  EXPECT_EQ(index_->bytes(), 0u);
  EXPECT_EQ(index_->ShareSize("a.example"), 0u);
  EXPECT_EQ(evictions_[EvictionReason::kExpired], 1);
}

TEST_F(CacheIndexTest, ReplacingAnEntryKeepsOneCopyAndIsNoEviction) {
  Make({.max_entries = 10, .max_bytes = 1 << 20, .max_per_domain = 10});
  Put({"a.example", "s"});
  Put({"a.example", "s"}, WithTargets(1, 10));
  EXPECT_EQ(index_->size(), 1u);
  EXPECT_EQ(index_->bytes(), CacheIndex::EstimateBytes({"a.example", "s"}, *WithTargets(1, 10)));
  EXPECT_TRUE(evictions_.empty());
  EXPECT_EQ(index_->Find({"a.example", "s"}, now_)->targets.size(), 1u);
}

}  // namespace
}  // namespace deputy
