#include "delegation/cache_index.h"

#include <iterator>

namespace deputy {

CacheIndex::CacheIndex(Limits limits, EvictionSink on_evict)
    : limits_(limits), on_evict_(std::move(on_evict)) {}

size_t CacheIndex::EstimateBytes(const Key& key, const Delegation& delegation) {
  size_t bytes = kEntryOverhead + key.first.size() + key.second.size() + delegation.url.size();
  for (const Target& target : delegation.targets) {
    bytes += kTargetOverhead + target.host.size() + target.domain.size();
  }
  return bytes;
}

size_t CacheIndex::ShareSize(const std::string& share) const {
  auto it = shares_.find(share);
  return it == shares_.end() ? 0 : it->second.size();
}

std::shared_ptr<const Delegation> CacheIndex::Find(const Key& key, Clock::time_point now) {
  auto node = nodes_.find(key);
  if (node == nodes_.end()) return nullptr;
  if (node->second.expiry->first <= now) {
    Erase(node, EvictionReason::kExpired);
    return nullptr;
  }
  Touch(node);
  return node->second.delegation;
}

void CacheIndex::Insert(const Key& key, const std::string& share,
                        std::shared_ptr<const Delegation> delegation, Clock::time_point expires,
                        Clock::time_point now) {
  if (auto old = nodes_.find(key); old != nodes_.end()) Erase(old, std::nullopt);
  DropExpired(now);
  const size_t bytes = EstimateBytes(key, *delegation);
  if (bytes > limits_.max_bytes || limits_.max_entries == 0 || limits_.max_per_domain == 0) {
    return;
  }
  auto node = nodes_.emplace(key, Node{std::move(delegation), bytes, now, {}, {}, {}, {}}).first;
  auto shared = shares_.try_emplace(share).first;
  Order& peers = shared->second;
  recency_.push_front(node);
  peers.push_front(node);
  node->second.recency = recency_.begin();
  node->second.share = shared;
  node->second.share_recency = peers.begin();
  node->second.expiry = expiry_.emplace(expires, node);
  bytes_ += bytes;
  // The new entry is the most recently used everywhere, so Enforce does not reach it.
  while (peers.size() > limits_.max_per_domain) Erase(peers.back(), EvictionReason::kDomainShare);
  Enforce();
}

void CacheIndex::SetLimits(Limits limits, Clock::time_point now) {
  limits_ = limits;
  DropExpired(now);
  for (auto share = shares_.begin(); share != shares_.end();) {
    // Erasing a share's last entry erases the share, so count first and step on before.
    auto next = std::next(share);
    const size_t held = share->second.size();
    for (size_t excess = held > limits_.max_per_domain ? held - limits_.max_per_domain : 0;
         excess > 0; --excess) {
      Erase(share->second.back(), EvictionReason::kDomainShare);
    }
    share = next;
  }
  Enforce();
}

void CacheIndex::Clear(EvictionReason reason) {
  while (!nodes_.empty()) Erase(nodes_.begin(), reason);
}

void CacheIndex::Enforce() {
  while (!nodes_.empty() && (nodes_.size() > limits_.max_entries || bytes_ > limits_.max_bytes)) {
    Erase(recency_.back(), EvictionReason::kLru);
  }
}

void CacheIndex::ForEach(const Visitor& visit) const {
  for (const auto& [key, node] : nodes_) {
    visit(key, node.delegation, node.stored, node.expiry->first);
  }
}

void CacheIndex::Touch(Nodes::iterator node) {
  recency_.splice(recency_.begin(), recency_, node->second.recency);
  Order& peers = node->second.share->second;
  peers.splice(peers.begin(), peers, node->second.share_recency);
}

void CacheIndex::Erase(Nodes::iterator node, std::optional<EvictionReason> reason) {
  auto share = node->second.share;
  share->second.erase(node->second.share_recency);
  if (share->second.empty()) shares_.erase(share);
  recency_.erase(node->second.recency);
  expiry_.erase(node->second.expiry);
  bytes_ -= node->second.bytes;
  nodes_.erase(node);
  if (reason && on_evict_) on_evict_(*reason);
}

void CacheIndex::DropExpired(Clock::time_point now) {
  while (!expiry_.empty() && expiry_.begin()->first <= now) {
    Erase(expiry_.begin()->second, EvictionReason::kExpired);
  }
}

}  // namespace deputy
