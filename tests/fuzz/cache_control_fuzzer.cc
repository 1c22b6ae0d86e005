// Fuzzes ResponseLifetime and ParseHttpDate, which read the freshness headers of any web
// server's delegation response.
//
// Input: "<Cache-Control>\n<Expires>\n<Date>"; missing fields are empty.

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz/fuzzer.h"
#include "http/cache_control.h"

namespace deputy::fuzz::cache_control {
namespace {

constexpr uint32_t kMinTtl = 60;
constexpr uint32_t kMaxTtl = 86400;
constexpr uint32_t kDefaultTtl = 3600;

std::string_view TakeLine(std::string_view& rest) {
  const size_t newline = rest.find('\n');
  const std::string_view line = rest.substr(0, newline);
  rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
  return line;
}

// ImfFixdate formats Unix seconds as an IMF-fixdate, or nullopt outside years 0-9999.
std::optional<std::string> ImfFixdate(int64_t unix_seconds) {
  using namespace std::chrono;
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const sys_seconds when{seconds{unix_seconds}};
  const sys_days day = floor<days>(when);
  const year_month_day date{day};
  const int year = static_cast<int>(date.year());
  if (year < 0 || year > 9999) return std::nullopt;
  const hh_mm_ss time{when - day};
  char text[64];
  std::snprintf(text, sizeof text, "%s, %02u %s %04d %02d:%02d:%02d GMT",
                kDays[weekday{day}.c_encoding()], static_cast<unsigned>(date.day()),
                kMonths[static_cast<unsigned>(date.month()) - 1], year,
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return text;
}

// A date that parses names one instant, which reads back the same in the preferred format.
void CheckDate(std::string_view text) {
  const std::optional<int64_t> when = ParseHttpDate(text);
  if (!when) return;
  const std::optional<std::string> formatted = ImfFixdate(*when);
  if (formatted) DEPUTY_FUZZ_CHECK(ParseHttpDate(*formatted) == when);
}

}  // namespace

DEPUTY_FUZZER(cache_control) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string_view cache_control = TakeLine(rest);
  const std::string_view expires = TakeLine(rest);
  const std::string_view date = rest;

  const std::optional<int64_t> lifetime = ResponseLifetime(cache_control, expires, date);
  if (lifetime) DEPUTY_FUZZ_CHECK(*lifetime >= 0);
  const int64_t ttl = ClampTtl(lifetime, kMinTtl, kMaxTtl, kDefaultTtl);
  DEPUTY_FUZZ_CHECK(ttl >= kMinTtl && ttl <= kMaxTtl);
  if (!lifetime) DEPUTY_FUZZ_CHECK(ttl == kDefaultTtl);

  // no-store and no-cache win wherever they appear among the directives.
  const std::string text(cache_control);
  DEPUTY_FUZZ_CHECK(ResponseLifetime("no-store, " + text, expires, date) == 0);
  DEPUTY_FUZZ_CHECK(ResponseLifetime(text + ", No-Cache", expires, date) == 0);

  CheckDate(cache_control);
  CheckDate(expires);
  CheckDate(date);
}

}  // namespace deputy::fuzz::cache_control
