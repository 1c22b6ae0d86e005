#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "base/untrusted_text.h"
#include "net/address.h"

namespace deputy {

// IsValidServiceName reports whether `name` has RFC 6335 service-name syntax: 1-15 ASCII
// letters, digits and hyphens, at least one letter, no hyphen at either end and no two hyphens
// in a row. Service names are case-insensitive (RFC 6335 section 5.1); NormalizeServiceName
// gives the lower-case form deputy uses in URLs, cache keys and lookups.
bool IsValidServiceName(std::string_view name);
std::string NormalizeServiceName(std::string_view name);

// NormalizeDomain checks that `domain` is a DNS name and returns it in lower case without its
// trailing dot. Rules: at most 253 characters (after dropping one trailing dot); labels of 1-63
// letters, digits and hyphens with no hyphen at either end; the last label not all digits (so
// "1.2.3.4" and "42" are not names); a label starting "xn--" (any case) must be an IDNA2008
// A-label, i.e. valid punycode that decodes to a permitted Unicode label and encodes back to
// itself. A single label such as "localhost" is allowed. IP literals are rejected with a message
// saying so. Errors are kBadRequest and quote the input.
Result<std::string> NormalizeDomain(std::string_view domain);

// IsValidHost reports whether `host` is a DNS name (as NormalizeDomain accepts, any case) or an
// IP literal: what a delegation document's `host` member may hold.
bool IsValidHost(std::string_view host);

}  // namespace deputy
