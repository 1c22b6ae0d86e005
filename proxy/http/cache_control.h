#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace deputy {

// ResponseLifetime computes how long a delegation response stays fresh, in seconds, from its
// header values as received (empty when absent; several Cache-Control lines joined by ", ").
// deputy is a shared cache, so, in order:
//   - `no-store`, `no-cache` or `private` -> 0 (the caller clamps it up to its minimum);
//   - `s-maxage=N`, else `max-age=N` -> N. N is a non-negative integer, optionally quoted;
//     beyond 2^31 it saturates there (RFC 9111); an invalid N -> 0 (treated as stale); the
//     first occurrence of a directive counts;
//   - `Expires` minus `Date` (never below 0). An unparseable Expires such as "0" -> 0; a missing
//     or unparseable Date means the response was made as it arrived (now);
//   - finally a valid `Age` is subtracted (never below 0).
// Directive names are case-insensitive and whitespace around them is ignored. nullopt means the
// response said nothing about freshness.
std::optional<int64_t> ResponseLifetime(std::string_view cache_control, std::string_view expires,
                                        std::string_view date, std::string_view age = {});

// ClampTtl is `default_s` when `lifetime` is nullopt, else `lifetime` clamped to
// [min_s, max_s].
int64_t ClampTtl(std::optional<int64_t> lifetime, uint32_t min_s, uint32_t max_s,
                 uint32_t default_s);

// ParseHttpDate parses the three HTTP date forms (RFC 9110 section 5.6.7) to Unix seconds:
// IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" (a
// two-digit year below 70 is 20xx, else 19xx) and asctime "Sun Nov  6 08:49:37 1994".
std::optional<int64_t> ParseHttpDate(std::string_view text);

}  // namespace deputy
