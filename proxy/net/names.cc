#include "net/names.h"

#include <arpa/inet.h>
#include <idn2.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace deputy {

namespace {

constexpr size_t kMaxDomainLength = 253;
constexpr size_t kMaxLabelLength = 63;

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

Status Invalid(std::string_view domain, std::string_view why) {
  return Status(ErrorCode::kBadRequest,
                QuoteUntrusted(domain) + " is not a valid domain name: " + std::string(why));
}

// CheckLabel returns an empty string when `label` is a valid DNS label, else the reason.
std::string CheckLabel(std::string_view label) {
  if (label.empty()) return "empty label";
  if (label.size() > kMaxLabelLength) return "label longer than 63 characters";
  if (label.front() == '-' || label.back() == '-') return "label starts or ends with a hyphen";
  for (char c : label) {
    if (!IsAsciiLetter(c) && !IsAsciiDigit(c) && c != '-') {
      return "only letters, digits, hyphens and dots are allowed";
    }
  }
  return "";
}

// IdnString owns a string libidn2 allocated.
struct IdnFree {
  void operator()(void* p) const { idn2_free(p); }
};
using IdnString = std::unique_ptr<char, IdnFree>;

// CheckALabel returns an empty string when `label` (lower case, starting "xn--") is an
// IDNA2008 A-label (RFC 5891 section 5.3-5.5): valid punycode whose Unicode form IDNA2008
// allows and encodes back to exactly `label`. A label failing this is not a name any
// registry could have issued, nor one a certificate could validly carry.
std::string CheckALabel(const std::string& label) {
  char* unicode = nullptr;
  int rc = idn2_to_unicode_8z8z(label.c_str(), &unicode, 0);
  const IdnString owned_unicode(unicode);
  if (rc != IDN2_OK) {
    return "label " + QuoteUntrusted(label) + " is not valid punycode (" + idn2_strerror(rc) + ")";
  }
  // IDN2_NO_TR46: IDNA2008 itself, without the UTS 46 mappings browsers add on top.
  uint8_t* ascii = nullptr;
  rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(unicode), &ascii, IDN2_NO_TR46);
  const IdnString owned_ascii(reinterpret_cast<char*>(ascii));
  if (rc != IDN2_OK) {
    return "label " + QuoteUntrusted(label) + " is not an IDNA2008 A-label (" + idn2_strerror(rc) +
           ")";
  }
  if (label != reinterpret_cast<const char*>(ascii)) {
    return "label " + QuoteUntrusted(label) + " is not the canonical encoding of its name";
  }
  return "";
}

}  // namespace

std::string NormalizeServiceName(std::string_view name) {
  std::string out(name);
  std::transform(out.begin(), out.end(), out.begin(), ToLowerAscii);
  return out;
}

bool IsValidServiceName(std::string_view name) {
  if (name.empty() || name.size() > 15) return false;
  if (name.front() == '-' || name.back() == '-') return false;
  if (name.find("--") != std::string_view::npos) return false;
  bool has_letter = false;
  for (char c : name) {
    if (IsAsciiLetter(c)) {
      has_letter = true;
    } else if (!IsAsciiDigit(c) && c != '-') {
      return false;
    }
  }
  return has_letter;
}

Result<std::string> NormalizeDomain(std::string_view domain) {
  if (IsIpLiteral(domain)) {
    return Status(ErrorCode::kBadRequest,
                  QuoteUntrusted(domain) + " is an IP literal, not a domain name");
  }
  std::string_view name = domain;
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return Invalid(domain, "empty name");
  if (name.size() > kMaxDomainLength) return Invalid(domain, "longer than 253 characters");

  std::string out(name);
  std::transform(out.begin(), out.end(), out.begin(), ToLowerAscii);

  std::string_view last_label;
  size_t start = 0;
  while (true) {
    const size_t dot = out.find('.', start);
    const std::string_view label = std::string_view(out).substr(
        start, dot == std::string::npos ? std::string_view::npos : dot - start);
    if (const std::string why = CheckLabel(label); !why.empty()) return Invalid(domain, why);
    if (label.starts_with("xn--")) {
      if (const std::string why = CheckALabel(std::string(label)); !why.empty()) {
        return Invalid(domain, why);
      }
    }
    last_label = label;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (std::all_of(last_label.begin(), last_label.end(), IsAsciiDigit)) {
    return Invalid(domain, "the last label is all digits");
  }
  return out;
}

bool IsValidHost(std::string_view host) { return IsIpLiteral(host) || NormalizeDomain(host).ok(); }

}  // namespace deputy
