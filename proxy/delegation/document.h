#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace deputy {

// Target is one usable entry of a delegation document.
struct Target {
  std::string host;    // lower-case DNS name, or an IP literal without brackets
  uint16_t port = 0;   // 1-65535
  std::string domain;  // lower-case name (or, by default for an IP host, the IP) to verify
  uint16_t priority = 0;
  uint16_t weight = 0;
};

struct Document {
  std::vector<Target> targets;  // valid entries, in document order
  // One reason per skipped entry, e.g. "entry 2: port 70000 is outside 1-65535"; the number is
  // the entry's 0-based index in the array.
  std::vector<std::string> skipped;
};

// Limits that keep a hostile document from costing unbounded work or stack.
inline constexpr size_t kMaxDocumentEntries = 64;
inline constexpr size_t kMaxDocumentDepth = 32;

// StaticHostCheck reports whether the operator configured `host` (lower-case) in dns.hosts.
using StaticHostCheck = std::function<bool(const std::string& host)>;

// ParseDocument validates a delegation document body (docs/delegation.md has the rules).
// Invalid entries are skipped with a reason; errors (all kBadDocument) are: not JSON, not an
// array, nesting deeper than kMaxDocumentDepth, more than kMaxDocumentEntries entries, or a
// non-empty array without a single valid entry. `[]` is valid and yields no targets. A host
// that is a single DNS label ("localhost", "redis") is only a target when `is_static_host`
// says the operator named it: otherwise a document could aim deputy at the resolver's search
// domains or at a machine's own services.
Result<Document> ParseDocument(std::string_view body, const StaticHostCheck& is_static_host);

// OrderTargets returns `targets` in the order to try them, per RFC 2782: ascending priority,
// and within one priority a weighted random order. The same input and rng state give the same
// order.
std::vector<Target> OrderTargets(std::vector<Target> targets, std::mt19937_64& rng);

}  // namespace deputy
