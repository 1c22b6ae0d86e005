#include "http/url.h"

#include <algorithm>
#include <vector>

#include "net/names.h"

namespace deputy {

namespace {

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
  return out;
}

// Spaces, controls and non-ASCII bytes could split or smuggle a request line; refuse them.
bool IsPrintableAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

Status ProtocolError(std::string_view url, std::string_view why) {
  return Status(ErrorCode::kHttpProtocolError,
                "URL " + QuoteUntrusted(url) + " " + std::string(why));
}

// SchemeOf returns the lower-cased RFC 3986 scheme of `url`, or "" when it has none (a
// relative reference).
std::string SchemeOf(std::string_view url) {
  const size_t colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0 || !IsAsciiLetter(url[0])) return "";
  for (char c : url.substr(0, colon)) {
    if (!IsAsciiLetter(c) && !IsAsciiDigit(c) && c != '+' && c != '-' && c != '.') return "";
  }
  return Lower(url.substr(0, colon));
}

std::string_view WithoutFragment(std::string_view url) { return url.substr(0, url.find('#')); }

// NormalizePath removes "." and ".." segments (RFC 3986 section 5.2.4) from the path part of
// `path`, which starts with '/', and keeps the query as it is.
std::string NormalizePath(std::string_view path) {
  const size_t query_start = path.find('?');
  const std::string_view query =
      query_start == std::string_view::npos ? std::string_view() : path.substr(query_start);
  std::string_view rest = path.substr(0, query_start).substr(1);

  std::vector<std::string_view> kept;
  bool trailing_slash = false;
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    const bool last = slash == std::string_view::npos;
    trailing_slash = last && (segment == "." || segment == "..");
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (segment != ".") {
      kept.push_back(segment);
    }
    if (last) break;
    rest.remove_prefix(slash + 1);
  }

  std::string out = "/";
  for (size_t i = 0; i < kept.size(); ++i) {
    if (i > 0) out += '/';
    out += kept[i];
  }
  if (trailing_slash && out.back() != '/') out += '/';
  out += query;
  return out;
}

Result<uint16_t> ParsePort(std::string_view url, std::string_view text) {
  if (text.empty()) return uint16_t{443};  // RFC 3986: an empty port means the default
  if (text.size() > 5 || !std::all_of(text.begin(), text.end(), IsAsciiDigit)) {
    return ProtocolError(url, "has an invalid port");
  }
  const int port = std::stoi(std::string(text));
  if (port < 1 || port > 65535) return ProtocolError(url, "has a port outside 1-65535");
  return static_cast<uint16_t>(port);
}

// ParseAuthority fills host and port from "host", "host:port" or "[v6]:port".
Status ParseAuthority(std::string_view url, std::string_view authority, HttpsUrl& out) {
  if (authority.find('@') != std::string_view::npos) {
    return ProtocolError(url, "has userinfo, which is not allowed");
  }
  std::string_view host;
  std::string_view after_host;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return ProtocolError(url, "has an unclosed '['");
    host = authority.substr(1, close - 1);
    if (host.find(':') == std::string_view::npos || !IsIpLiteral(host)) {
      return ProtocolError(url, "has an invalid IPv6 literal");
    }
    after_host = authority.substr(close + 1);
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    after_host = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  }
  if (host.empty()) return ProtocolError(url, "has no host");

  if (IsIpLiteral(host)) {
    out.host = Lower(host);
  } else {
    Result<std::string> name = NormalizeDomain(host);
    if (!name.ok()) return ProtocolError(url, "has an invalid host: " + name.status().message());
    out.host = std::move(name).value();
  }

  if (!after_host.empty()) {
    if (after_host.front() != ':') return ProtocolError(url, "has junk after the host");
    Result<uint16_t> port = ParsePort(url, after_host.substr(1));
    if (!port.ok()) return port.status();
    out.port = *port;
  }
  return Status::Ok();
}

}  // namespace

std::string HttpsUrl::HostHeader() const {
  std::string out = host.find(':') == std::string::npos ? host : "[" + host + "]";
  if (port != 443) out += ":" + std::to_string(port);
  return out;
}

std::string HttpsUrl::ToString() const { return "https://" + HostHeader() + path; }

Result<HttpsUrl> ParseHttpsUrl(std::string_view url) {
  if (!IsPrintableAscii(url)) {
    return ProtocolError(url, "contains spaces, control or non-ASCII bytes");
  }
  const std::string scheme = SchemeOf(url);
  if (scheme.empty()) return ProtocolError(url, "is not an absolute URL");
  if (scheme != "https") {
    return Status(ErrorCode::kBadRedirect, "refusing non-https URL " + QuoteUntrusted(url));
  }
  std::string_view rest = WithoutFragment(url.substr(scheme.size() + 1));
  if (!rest.starts_with("//")) return ProtocolError(url, "has no host");
  rest.remove_prefix(2);

  const size_t path_start = rest.find_first_of("/?");
  HttpsUrl out;
  if (Status status = ParseAuthority(url, rest.substr(0, path_start), out); !status.ok()) {
    return status;
  }
  const std::string_view path =
      path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  out.path = NormalizePath(path.starts_with('/') ? std::string(path) : "/" + std::string(path));
  return out;
}

Result<HttpsUrl> ResolveLocation(const HttpsUrl& base, std::string_view location) {
  if (location.empty()) return ProtocolError(location, "is empty");
  if (!IsPrintableAscii(location)) {
    return ProtocolError(location, "contains spaces, control or non-ASCII bytes");
  }
  if (!SchemeOf(location).empty()) return ParseHttpsUrl(location);
  if (location.starts_with("//")) return ParseHttpsUrl("https:" + std::string(location));

  const std::string_view reference = WithoutFragment(location);
  const std::string_view base_path = std::string_view(base.path).substr(0, base.path.find('?'));
  HttpsUrl out{base.host, base.port, ""};
  if (reference.empty()) {
    out.path = base.path;
  } else if (reference.front() == '/') {
    out.path = NormalizePath(reference);
  } else if (reference.front() == '?') {
    out.path = std::string(base_path) + std::string(reference);
  } else {
    std::string_view directory = base_path.substr(0, base_path.rfind('/') + 1);
    if (directory.empty()) directory = "/";
    out.path = NormalizePath(std::string(directory) + std::string(reference));
  }
  return out;
}

std::string ExpandUrlTemplate(std::string_view tmpl, std::string_view domain,
                              std::string_view service) {
  constexpr std::string_view kDomain = "{domain}";
  constexpr std::string_view kService = "{service}";
  std::string out;
  while (!tmpl.empty()) {
    if (tmpl.starts_with(kDomain)) {
      out += domain;
      tmpl.remove_prefix(kDomain.size());
    } else if (tmpl.starts_with(kService)) {
      out += service;
      tmpl.remove_prefix(kService.size());
    } else {
      out += tmpl.front();
      tmpl.remove_prefix(1);
    }
  }
  return out;
}

}  // namespace deputy
