#include "http/cache_control.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>

namespace deputy {

namespace {

// RFC 9111 section 1.2.2: delta-seconds beyond 2^31 are taken as 2^31.
constexpr int64_t kMaxDeltaSeconds = int64_t{1} << 31;

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kShortDays = {"Mon", "Tue", "Wed", "Thu",
                                                        "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDays = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

// Cursor reads the fixed-layout pieces of an HTTP date left to right; every read fails on a
// mismatch, and a failed cursor stays failed.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : rest_(text) {}

  bool ok() const { return ok_; }
  bool done() const { return ok_ && rest_.empty(); }

  void Literal(std::string_view expected) {
    if (ok_ && rest_.starts_with(expected)) {
      rest_.remove_prefix(expected.size());
    } else {
      ok_ = false;
    }
  }

  // Skip consumes `c` if it comes next and says whether it did.
  bool Skip(char c) {
    if (!ok_ || !rest_.starts_with(c)) return false;
    rest_.remove_prefix(1);
    return true;
  }

  // Number reads exactly `digits` digits.
  int Number(size_t digits) {
    int value = 0;
    for (size_t i = 0; i < digits; ++i) {
      if (!ok_ || rest_.empty() || !IsDigit(rest_.front())) {
        ok_ = false;
        return 0;
      }
      value = value * 10 + (rest_.front() - '0');
      rest_.remove_prefix(1);
    }
    return value;
  }

  // OneOf reads one of `words` and returns its index.
  template <size_t N>
  size_t OneOf(const std::array<std::string_view, N>& words) {
    for (size_t i = 0; ok_ && i < N; ++i) {
      if (rest_.starts_with(words[i])) {
        rest_.remove_prefix(words[i].size());
        return i;
      }
    }
    ok_ = false;
    return 0;
  }

  // Time reads "hh:mm:ss" and returns seconds since midnight.
  int64_t Time() {
    const int hours = Number(2);
    Literal(":");
    const int minutes = Number(2);
    Literal(":");
    const int seconds = Number(2);
    if (hours > 23 || minutes > 59 || seconds > 60) ok_ = false;  // 60: a leap second
    return hours * 3600 + minutes * 60 + seconds;
  }

 private:
  std::string_view rest_;
  bool ok_ = true;
};

std::optional<int64_t> ToUnix(const Cursor& cursor, int year, size_t month, int day,
                              int64_t time_of_day) {
  if (!cursor.done()) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month + 1)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return std::nullopt;
  const std::chrono::sys_days days{date};
  return int64_t{days.time_since_epoch().count()} * 86400 + time_of_day;
}

// "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<int64_t> ParseImfFixdate(std::string_view text) {
  Cursor c(text);
  c.OneOf(kShortDays);
  c.Literal(", ");
  const int day = c.Number(2);
  c.Literal(" ");
  const size_t month = c.OneOf(kMonths);
  c.Literal(" ");
  const int year = c.Number(4);
  c.Literal(" ");
  const int64_t time = c.Time();
  c.Literal(" GMT");
  return ToUnix(c, year, month, day, time);
}

// "Sunday, 06-Nov-94 08:49:37 GMT"
std::optional<int64_t> ParseRfc850(std::string_view text) {
  Cursor c(text);
  c.OneOf(kLongDays);
  c.Literal(", ");
  const int day = c.Number(2);
  c.Literal("-");
  const size_t month = c.OneOf(kMonths);
  c.Literal("-");
  const int short_year = c.Number(2);
  c.Literal(" ");
  const int64_t time = c.Time();
  c.Literal(" GMT");
  return ToUnix(c, short_year < 70 ? 2000 + short_year : 1900 + short_year, month, day, time);
}

// "Sun Nov  6 08:49:37 1994"
std::optional<int64_t> ParseAsctime(std::string_view text) {
  Cursor c(text);
  c.OneOf(kShortDays);
  c.Literal(" ");
  const size_t month = c.OneOf(kMonths);
  c.Literal(" ");
  const int day = c.Skip(' ') ? c.Number(1) : c.Number(2);  // " 6" or "16"
  c.Literal(" ");
  const int64_t time = c.Time();
  c.Literal(" ");
  const int year = c.Number(4);
  return ToUnix(c, year, month, day, time);
}

// DeltaSeconds parses a directive's value: digits, optionally quoted; huge values saturate.
std::optional<int64_t> DeltaSeconds(std::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  if (value.empty() || !std::all_of(value.begin(), value.end(), IsDigit)) return std::nullopt;
  int64_t seconds = 0;
  for (char c : value) {
    seconds = std::min(seconds * 10 + (c - '0'), kMaxDeltaSeconds);
  }
  return seconds;
}

std::optional<int64_t> FreshnessLifetime(std::string_view cache_control, std::string_view expires,
                                         std::string_view date) {
  std::optional<std::string_view> max_age;
  std::optional<std::string_view> s_maxage;
  while (!cache_control.empty()) {
    const size_t comma = cache_control.find(',');
    const std::string_view directive = Trim(cache_control.substr(0, comma));
    cache_control.remove_prefix(comma == std::string_view::npos ? cache_control.size() : comma + 1);

    const size_t equals = directive.find('=');
    const std::string_view name = Trim(directive.substr(0, equals));
    const std::string_view value =
        equals == std::string_view::npos ? std::string_view() : Trim(directive.substr(equals + 1));
    // deputy's cache is shared by every client, so `private` forbids storing too.
    if (EqualsIgnoreCase(name, "no-store") || EqualsIgnoreCase(name, "no-cache") ||
        EqualsIgnoreCase(name, "private")) {
      return 0;
    }
    if (EqualsIgnoreCase(name, "s-maxage") && !s_maxage) s_maxage = value;
    if (EqualsIgnoreCase(name, "max-age") && !max_age) max_age = value;
  }
  if (s_maxage || max_age) return DeltaSeconds(s_maxage ? *s_maxage : *max_age).value_or(0);

  if (Trim(expires).empty()) return std::nullopt;
  const std::optional<int64_t> expires_at = ParseHttpDate(expires);
  if (!expires_at) return 0;
  // Without a usable Date the response was generated when it arrived (RFC 9110 section 6.6.1).
  const int64_t date_at = ParseHttpDate(date).value_or(static_cast<int64_t>(std::time(nullptr)));
  return std::max<int64_t>(0, *expires_at - date_at);
}

}  // namespace

std::optional<int64_t> ParseHttpDate(std::string_view text) {
  text = Trim(text);
  const size_t comma = text.find(',');
  if (comma == std::string_view::npos) return ParseAsctime(text);
  return comma == 3 ? ParseImfFixdate(text) : ParseRfc850(text);
}

std::optional<int64_t> ResponseLifetime(std::string_view cache_control, std::string_view expires,
                                        std::string_view date, std::string_view age) {
  std::optional<int64_t> lifetime = FreshnessLifetime(cache_control, expires, date);
  // What an upstream cache already spent of the lifetime is gone (RFC 9111 section 4.2.3).
  if (lifetime && !Trim(age).empty()) {
    *lifetime = std::max<int64_t>(0, *lifetime - DeltaSeconds(Trim(age)).value_or(0));
  }
  return lifetime;
}

int64_t ClampTtl(std::optional<int64_t> lifetime, uint32_t min_s, uint32_t max_s,
                 uint32_t default_s) {
  if (!lifetime) return default_s;
  return std::max<int64_t>(min_s, std::min<int64_t>(*lifetime, max_s));
}

}  // namespace deputy
