#include "net/dns_cache.h"

#include <algorithm>

namespace deputy {

std::string DnsCache::KeyOf(const std::string& name, DnsType type) {
  std::string key(DnsTypeLabel(type));
  key += ' ';
  key += name;
  return key;
}

const DnsCache::Entry* DnsCache::Find(const std::string& name, DnsType type, uint64_t now_ms) {
  auto it = index_.find(KeyOf(name, type));
  if (it == index_.end()) return nullptr;
  if (it->second->entry.expires_ms <= now_ms) {
    recency_.erase(it->second);
    index_.erase(it);
    return nullptr;
  }
  recency_.splice(recency_.begin(), recency_, it->second);
  return &it->second->entry;
}

uint32_t DnsCache::KeptForS(const DnsAnswer& answer) const {
  if (!answer.ttl_s) return 0;
  const uint32_t max = answer.kind == DnsAnswer::Kind::kRecords
                           ? limits_.max_ttl_s
                           : std::min(limits_.max_ttl_s, limits_.max_negative_ttl_s);
  return std::min(std::max(*answer.ttl_s, limits_.min_ttl_s), max);
}

bool DnsCache::Store(const std::string& name, DnsType type, DnsAnswer answer, uint64_t now_ms) {
  const uint32_t keep_s = KeptForS(answer);
  std::string key = KeyOf(name, type);
  auto it = index_.find(key);
  if (it != index_.end()) {
    recency_.erase(it->second);
    index_.erase(it);
  }
  if (keep_s == 0 || limits_.max_entries == 0) return false;
  EvictDownTo(limits_.max_entries - 1);
  recency_.push_front(Node{key, Entry{std::move(answer), now_ms + uint64_t{keep_s} * 1000}});
  index_.emplace(std::move(key), recency_.begin());
  return true;
}

void DnsCache::SetLimits(DnsCacheLimits limits) {
  limits_ = limits;
  EvictDownTo(limits_.max_entries);
}

void DnsCache::Clear() {
  index_.clear();
  recency_.clear();
}

void DnsCache::EvictDownTo(size_t entries) {
  while (index_.size() > entries) {
    index_.erase(recency_.back().key);
    recency_.pop_back();
  }
}

}  // namespace deputy
