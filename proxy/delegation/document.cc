#include "delegation/document.h"

#include <algorithm>
#include <exception>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

#include "base/untrusted_text.h"
#include "net/names.h"

namespace deputy {

namespace {

using Json = nlohmann::json;

constexpr size_t kMaxReasonLength = 160;
constexpr size_t kReasonsInError = 3;
// A weight-0 entry competes as 1/kWeightScale of one weight unit: RFC 2782 gives it "a very
// small chance" when weighted entries share its priority.
constexpr uint64_t kWeightScale = 256;

Status BadDocument(std::string message) {
  return Status(ErrorCode::kBadDocument, std::move(message));
}

// MaxDepth returns how deeply arrays and objects nest in `body`, ignoring brackets inside
// strings, and stops counting past `limit`. It runs before the (recursive) JSON parser so a
// hostile document cannot exhaust the stack.
size_t MaxDepth(std::string_view body, size_t limit) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// ShortReason turns a parser exception into a bounded, printable reason without the library's
// "[json.exception...]" prefix.
std::string ShortReason(const std::exception& e) {
  std::string_view what = e.what();
  if (const size_t end = what.find("] ");
      !what.empty() && what.front() == '[' && end != std::string_view::npos) {
    what.remove_prefix(end + 2);
  }
  return Printable(what, {.max_length = kMaxReasonLength});
}

// Render shows a JSON value in a reason: scalars as written (strings quoted and bounded),
// containers by kind only.
std::string Render(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string:
      return QuoteUntrusted(value.get_ref<const std::string&>());
    case Json::value_t::object:
      return "(an object)";
    case Json::value_t::array:
      return "(an array)";
    default:
      return value.dump();
  }
}

// ReadInteger reads `object[name]` as an integer in [min, 65535]; the error is the reason.
Result<uint16_t> ReadInteger(const Json& object, const std::string& name, uint16_t min) {
  const Json& value = object.at(name);
  if (!value.is_number_integer()) {
    return BadDocument(name + " " + Render(value) + " is not an integer");
  }
  const bool in_range = value.is_number_unsigned()
                            ? value.get<uint64_t>() >= min && value.get<uint64_t>() <= 65535
                            : value.get<int64_t>() >= min && value.get<int64_t>() <= 65535;
  if (!in_range) {
    return BadDocument(name + " " + value.dump() + " is outside " + std::to_string(min) + "-65535");
  }
  return static_cast<uint16_t>(value.get<uint64_t>());
}

Result<std::string> ReadHost(const Json& entry, const StaticHostCheck& is_static_host) {
  if (!entry.contains("host")) return BadDocument("host is missing");
  const Json& value = entry.at("host");
  if (!value.is_string()) return BadDocument("host " + Render(value) + " is not a string");
  std::string host = value.get<std::string>();
  if (IsIpLiteral(host)) {
    if (host.front() == '[') host = host.substr(1, host.size() - 2);
    std::transform(host.begin(), host.end(), host.begin(),
                   [](char c) { return (c >= 'A' && c <= 'F') ? static_cast<char>(c + 32) : c; });
    return host;
  }
  Result<std::string> name = NormalizeDomain(host);
  if (!name.ok()) return BadDocument("host " + name.status().message());
  if (name->find('.') == std::string::npos && !is_static_host(*name)) {
    return BadDocument("host " + QuoteUntrusted(*name) +
                       " is a single label, accepted only when dns.hosts names it");
  }
  return std::move(name).value();
}

Result<Target> ReadEntry(const Json& entry, const StaticHostCheck& is_static_host) {
  if (!entry.is_object()) return BadDocument("not an object but " + Render(entry));
  Target target;

  Result<std::string> host = ReadHost(entry, is_static_host);
  if (!host.ok()) return host.status();
  target.host = std::move(host).value();

  if (!entry.contains("port")) return BadDocument("port is missing");
  Result<uint16_t> port = ReadInteger(entry, "port", 1);
  if (!port.ok()) return port.status();
  target.port = *port;

  if (entry.contains("domain")) {
    const Json& value = entry.at("domain");
    if (!value.is_string()) return BadDocument("domain " + Render(value) + " is not a string");
    Result<std::string> domain = NormalizeDomain(value.get_ref<const std::string&>());
    if (!domain.ok()) return BadDocument("domain " + domain.status().message());
    target.domain = std::move(domain).value();
  } else {
    // Default: the host itself; for an IP literal the certificate must carry that IP address.
    target.domain = target.host;
  }

  for (auto [name, field] : {std::pair<const char*, uint16_t*>{"priority", &target.priority},
                             std::pair<const char*, uint16_t*>{"weight", &target.weight}}) {
    if (!entry.contains(name)) continue;
    Result<uint16_t> number = ReadInteger(entry, name, 0);
    if (!number.ok()) return number.status();
    *field = *number;
  }
  return target;
}

// RepeatedKeyEntries notes, while the parser runs, which elements of the top-level array hold
// an object that repeats a key. JSON leaves such documents open to interpretation (nlohmann
// keeps the last value, other readers the first), so those entries must not be trusted.
class RepeatedKeyEntries {
 public:
  void Observe(Json::parse_event_t event, const Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        frames_.emplace_back();
        break;
      case Json::parse_event_t::key:
        if (frames_.size() >= 2 && !frames_.back().insert(parsed.get<std::string>()).second) {
          entries_.insert(entry_);
        }
        break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        frames_.pop_back();
        if (frames_.size() == 1) ++entry_;
        break;
      case Json::parse_event_t::value:
        if (frames_.size() == 1) ++entry_;
        break;
    }
  }

  bool Contains(size_t entry) const { return entries_.contains(entry); }

 private:
  std::vector<std::set<std::string>> frames_;  // keys seen, per open object or array
  size_t entry_ = 0;                           // element of the top-level array being parsed
  std::set<size_t> entries_;
};

Result<Document> ParseArray(const Json& array, const RepeatedKeyEntries& repeated,
                            const StaticHostCheck& is_static_host) {
  if (!array.is_array()) return BadDocument("document is not a JSON array");
  if (array.size() > kMaxDocumentEntries) {
    return BadDocument("document has " + std::to_string(array.size()) + " entries; at most " +
                       std::to_string(kMaxDocumentEntries) + " are allowed");
  }
  Document document;
  for (size_t i = 0; i < array.size(); ++i) {
    Result<Target> target = repeated.Contains(i)
                                ? BadDocument("repeats a key, so its meaning is ambiguous")
                                : ReadEntry(array[i], is_static_host);
    if (target.ok()) {
      document.targets.push_back(std::move(target).value());
    } else {
      document.skipped.push_back("entry " + std::to_string(i) + ": " + target.status().message());
    }
  }
  if (!array.empty() && document.targets.empty()) {
    std::string message = "document has no valid entry: ";
    for (size_t i = 0; i < document.skipped.size() && i < kReasonsInError; ++i) {
      if (i > 0) message += "; ";
      message += document.skipped[i];
    }
    if (document.skipped.size() > kReasonsInError) {
      message += "; and " + std::to_string(document.skipped.size() - kReasonsInError) + " more";
    }
    return BadDocument(std::move(message));
  }
  return document;
}

// PickWeighted removes and returns one entry of `group` by RFC 2782's running-sum selection.
// Weights are scaled so a weight-0 entry counts as 1/kWeightScale, and the random number is
// drawn from [1, sum]: the RFC's literal draw from [0, sum] hands the first entry one extra
// unit (weights 1 and 3 would split 40/60 instead of 25/75).
Target PickWeighted(std::vector<Target>& group, std::mt19937_64& rng) {
  uint64_t total = 0;
  for (const Target& t : group) total += t.weight == 0 ? 1 : t.weight * kWeightScale;
  const uint64_t pick = std::uniform_int_distribution<uint64_t>(1, total)(rng);
  uint64_t running = 0;
  size_t chosen = group.size() - 1;
  for (size_t i = 0; i < group.size(); ++i) {
    running += group[i].weight == 0 ? 1 : group[i].weight * kWeightScale;
    if (running >= pick) {
      chosen = i;
      break;
    }
  }
  Target out = std::move(group[chosen]);
  group.erase(group.begin() + static_cast<std::ptrdiff_t>(chosen));
  return out;
}

}  // namespace

Result<Document> ParseDocument(std::string_view body, const StaticHostCheck& is_static_host) {
  if (MaxDepth(body, kMaxDocumentDepth) > kMaxDocumentDepth) {
    return BadDocument("document nests deeper than " + std::to_string(kMaxDocumentDepth) +
                       " levels");
  }
  try {
    RepeatedKeyEntries repeated;
    Json document = Json::parse(body.begin(), body.end(),
                                [&repeated](int, Json::parse_event_t event, Json& parsed) {
                                  repeated.Observe(event, parsed);
                                  return true;
                                });
    return ParseArray(document, repeated, is_static_host);
  } catch (const Json::exception& e) {
    return BadDocument("document is not valid JSON: " + ShortReason(e));
  } catch (const std::exception& e) {
    return BadDocument("document could not be read: " + ShortReason(e));
  }
}

std::vector<Target> OrderTargets(std::vector<Target> targets, std::mt19937_64& rng) {
  std::stable_sort(targets.begin(), targets.end(),
                   [](const Target& a, const Target& b) { return a.priority < b.priority; });
  std::vector<Target> ordered;
  ordered.reserve(targets.size());
  auto begin = targets.begin();
  while (begin != targets.end()) {
    auto end = std::find_if(begin, targets.end(),
                            [&](const Target& t) { return t.priority != begin->priority; });
    std::vector<Target> group(std::make_move_iterator(begin), std::make_move_iterator(end));
    begin = end;
    // With no weights at all there is no selection to make: keep the document's order.
    const bool weighted =
        std::any_of(group.begin(), group.end(), [](const Target& t) { return t.weight > 0; });
    if (!weighted) {
      std::move(group.begin(), group.end(), std::back_inserter(ordered));
      continue;
    }
    // Weight-0 entries go first, as the RFC's algorithm prescribes.
    std::stable_partition(group.begin(), group.end(),
                          [](const Target& t) { return t.weight == 0; });
    while (!group.empty()) ordered.push_back(PickWeighted(group, rng));
  }
  return ordered;
}

}  // namespace deputy
