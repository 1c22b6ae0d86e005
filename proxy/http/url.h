#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace deputy {

// HttpsUrl is a parsed https:// URL, as the well-known client needs it.
struct HttpsUrl {
  std::string host;  // lower-case DNS name without trailing dot, or an IP literal (no brackets)
  uint16_t port = 443;
  std::string path;  // starts with '/', includes the query, never a fragment

  // HostHeader is "host", or "host:port" when port != 443; an IPv6 host is bracketed.
  std::string HostHeader() const;
  // ToString is "https://" + HostHeader() + path.
  std::string ToString() const;
};

// ParseHttpsUrl accepts only absolute https:// URLs (scheme case-insensitive) with a host (DNS
// name, IPv4, or bracketed IPv6), an optional port 1-65535, no userinfo. An empty path becomes
// "/" and a fragment is dropped. Every byte must be printable ASCII, so a URL can never break
// the request line it ends up in. Another scheme (http:// included) is kBadRedirect "refusing
// non-https URL ..."; anything else malformed is kHttpProtocolError.
Result<HttpsUrl> ParseHttpsUrl(std::string_view url);

// ResolveLocation resolves a redirect's Location against the URL that answered: an absolute
// https URL, a scheme-relative "//host/path", an absolute path "/x", a query "?q" or a relative
// path "x" (against the base path's directory), with "." and ".." segments removed. A scheme
// other than https is kBadRedirect.
Result<HttpsUrl> ResolveLocation(const HttpsUrl& base, std::string_view location);

// ExpandUrlTemplate replaces every "{domain}" and "{service}" in `tmpl`.
std::string ExpandUrlTemplate(std::string_view tmpl, std::string_view domain,
                              std::string_view service);

}  // namespace deputy
