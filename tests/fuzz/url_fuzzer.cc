// Fuzzes ParseHttpsUrl and ResolveLocation, which read redirect targets from any web server.
//
// Input: "<url>\n<location>". The url is parsed on its own and, when valid, is the base the
// location resolves against; otherwise the base is a fixed well-known URL. Without a newline
// the whole input serves as both.

#include <string_view>

#include "fuzz/fuzzer.h"
#include "http/url.h"

namespace deputy::fuzz::url {
namespace {

bool Same(const HttpsUrl& a, const HttpsUrl& b) {
  return a.host == b.host && a.port == b.port && a.path == b.path;
}

// CheckResult checks a parsed or resolved URL: every piece is safe to put into a request line
// and a Host header, and the URL reads back as itself.
void CheckResult(const Result<HttpsUrl>& url) {
  if (!url.ok()) {
    DEPUTY_FUZZ_CHECK(url.status().code() == ErrorCode::kHttpProtocolError ||
                      url.status().code() == ErrorCode::kBadRedirect);
    DEPUTY_FUZZ_CHECK(IsPrintableAscii(url.status().message()));
    return;
  }
  DEPUTY_FUZZ_CHECK(!url->host.empty());
  DEPUTY_FUZZ_CHECK(url->port >= 1);
  DEPUTY_FUZZ_CHECK(url->path.starts_with('/'));
  DEPUTY_FUZZ_CHECK(url->path.find('#') == std::string::npos);
  DEPUTY_FUZZ_CHECK(IsPrintableAscii(url->host) && IsPrintableAscii(url->path));
  DEPUTY_FUZZ_CHECK(url->host.find_first_of(" /?#@[]") == std::string::npos);
  DEPUTY_FUZZ_CHECK(url->path.find(' ') == std::string::npos);
  const Result<HttpsUrl> again = ParseHttpsUrl(url->ToString());
  DEPUTY_FUZZ_CHECK(again.ok() && Same(*again, *url));
}

}  // namespace

DEPUTY_FUZZER(url) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view first = input.substr(0, newline);
  const std::string_view location =
      newline == std::string_view::npos ? input : input.substr(newline + 1);

  const Result<HttpsUrl> url = ParseHttpsUrl(first);
  CheckResult(url);
  const HttpsUrl base =
      url.ok() ? *url : HttpsUrl{"example.org", 443, "/.well-known/service/xmpp-client"};

  const Result<HttpsUrl> resolved = ResolveLocation(base, location);
  CheckResult(resolved);
  const Result<HttpsUrl> absolute = ParseHttpsUrl(location);
  if (absolute.ok()) {
    // An absolute location resolves to exactly what it says.
    DEPUTY_FUZZ_CHECK(resolved.ok() && Same(*resolved, *absolute));
  } else if (resolved.ok() && !location.starts_with("//")) {
    // Anything else that resolves was a relative reference: it stays on the base's origin.
    DEPUTY_FUZZ_CHECK(resolved->host == base.host && resolved->port == base.port);
  }
}

}  // namespace deputy::fuzz::url
