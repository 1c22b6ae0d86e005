// Fuzzes ParseDocument, which reads the delegation document any domain's web server publishes,
// and OrderTargets on what it accepts. The whole input is the document body; the rng seed for
// the ordering is derived from it, so every run is reproducible.

#include <algorithm>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "delegation/document.h"
#include "fuzz/fuzzer.h"
#include "net/names.h"

namespace deputy::fuzz::document {
namespace {

// A reason names an entry and quotes at most a bounded part of it.
constexpr size_t kMaxReasonLength = 512;
// An error quotes at most a few reasons.
constexpr size_t kMaxErrorLength = 4096;

// The static hosts an operator configured (dns.hosts): the only single-label targets allowed.
bool IsConfiguredHost(const std::string& host) { return host == "localhost" || host == "redis"; }

auto Key(const Target& t) { return std::tie(t.host, t.port, t.domain, t.priority, t.weight); }

std::vector<Target> Sorted(std::vector<Target> targets) {
  std::sort(targets.begin(), targets.end(),
            [](const Target& a, const Target& b) { return Key(a) < Key(b); });
  return targets;
}

bool SameTargets(const std::vector<Target>& a, const std::vector<Target>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const Target& x, const Target& y) { return Key(x) == Key(y); });
}

void CheckTarget(const Target& target) {
  DEPUTY_FUZZ_CHECK(!target.host.empty());
  DEPUTY_FUZZ_CHECK(!target.domain.empty());
  DEPUTY_FUZZ_CHECK(target.port >= 1);
  // host is a lower-case DNS name or an IP literal without brackets.
  DEPUTY_FUZZ_CHECK(IsValidHost(target.host));
  DEPUTY_FUZZ_CHECK(target.host.front() != '[');
  DEPUTY_FUZZ_CHECK(std::none_of(target.host.begin(), target.host.end(),
                                 [](char c) { return c >= 'A' && c <= 'Z'; }));
  // A single-label name is a target only when the operator configured it.
  if (!IsIpLiteral(target.host) && target.host.find('.') == std::string::npos) {
    DEPUTY_FUZZ_CHECK(IsConfiguredHost(target.host));
  }
  // domain is what a certificate is verified against: a normalized DNS name, or the host itself
  // when that is an IP literal and the entry named no domain.
  if (IsIpLiteral(target.domain)) {
    DEPUTY_FUZZ_CHECK(target.domain == target.host);
  } else {
    const Result<std::string> domain = NormalizeDomain(target.domain);
    DEPUTY_FUZZ_CHECK(domain.ok() && *domain == target.domain);
  }
}

}  // namespace

DEPUTY_FUZZER(document) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  Result<Document> document = ParseDocument(body, IsConfiguredHost);
  if (!document.ok()) {
    DEPUTY_FUZZ_CHECK(document.status().code() == ErrorCode::kBadDocument);
    // The error goes into logs and a Proxy-Status header: hostile bytes must not forge either.
    DEPUTY_FUZZ_CHECK(IsPrintableAscii(document.status().message()));
    DEPUTY_FUZZ_CHECK(document.status().message().size() <= kMaxErrorLength);
    return;
  }
  const std::vector<Target>& targets = document->targets;
  DEPUTY_FUZZ_CHECK(targets.size() <= kMaxDocumentEntries);
  DEPUTY_FUZZ_CHECK(targets.size() + document->skipped.size() <= kMaxDocumentEntries);
  for (const Target& target : targets) CheckTarget(target);
  for (const std::string& reason : document->skipped) {
    DEPUTY_FUZZ_CHECK(IsPrintableAscii(reason));
    DEPUTY_FUZZ_CHECK(reason.size() <= kMaxReasonLength);
  }

  const uint64_t seed = std::hash<std::string_view>{}(body);
  std::mt19937_64 rng(seed);
  const std::vector<Target> ordered = OrderTargets(targets, rng);
  // The order is a permutation of the targets, by ascending priority.
  DEPUTY_FUZZ_CHECK(SameTargets(Sorted(ordered), Sorted(targets)));
  DEPUTY_FUZZ_CHECK(
      std::is_sorted(ordered.begin(), ordered.end(),
                     [](const Target& a, const Target& b) { return a.priority < b.priority; }));
  // The same targets and rng state give the same order.
  std::mt19937_64 again(seed);
  DEPUTY_FUZZ_CHECK(SameTargets(OrderTargets(targets, again), ordered));
}

}  // namespace deputy::fuzz::document
