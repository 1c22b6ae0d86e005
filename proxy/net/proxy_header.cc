#include "net/proxy_header.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <string>
#include <vector>

namespace deputy {

namespace {

constexpr std::string_view kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);
constexpr std::string_view kV1Prefix = "PROXY ";
constexpr size_t kMaxV1Bytes = 107;

ProxyHeaderParse Fail(Status* error, std::string message) {
  *error = Status(ErrorCode::kBadRequest, "PROXY protocol header: " + std::move(message));
  return ProxyHeaderParse::kError;
}

std::vector<std::string_view> SplitSpaces(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (start <= line.size()) {
    const size_t space = line.find(' ', start);
    fields.push_back(line.substr(start, space - start));
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  return fields;
}

std::optional<uint16_t> ReadPort(std::string_view text) {
  // Decimal without sign or leading zeros, as the spec writes it.
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port > 65535) return std::nullopt;
  return static_cast<uint16_t>(port);
}

std::optional<IpEndpoint> ReadV1Endpoint(int family, std::string_view address,
                                         std::string_view port_text) {
  const std::optional<uint16_t> port = ReadPort(port_text);
  if (!port || address.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string text(address);
  IpEndpoint endpoint;
  if (family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&endpoint.storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(*port);
    if (inet_pton(AF_INET, text.c_str(), &in->sin_addr) != 1) return std::nullopt;
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&endpoint.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(*port);
    if (inet_pton(AF_INET6, text.c_str(), &in6->sin6_addr) != 1) return std::nullopt;
  }
  return endpoint;
}

ProxyHeaderParse ParseV1(std::string_view bytes, ProxyHeader* out, size_t* consumed,
                         Status* error) {
  const size_t end = bytes.find("\r\n");
  if (end == std::string_view::npos) {
    if (bytes.size() >= kMaxV1Bytes) return Fail(error, "v1 line longer than 107 bytes");
    return ProxyHeaderParse::kNeedMore;
  }
  if (end + 2 > kMaxV1Bytes) return Fail(error, "v1 line longer than 107 bytes");
  const std::vector<std::string_view> fields = SplitSpaces(bytes.substr(0, end));
  if (fields.size() >= 2 && fields[1] == "UNKNOWN") {
    out->source.reset();
    *consumed = end + 2;
    return ProxyHeaderParse::kDone;
  }
  if (fields.size() != 6 || (fields[1] != "TCP4" && fields[1] != "TCP6")) {
    return Fail(error, "v1 line is not PROXY TCP4|TCP6 source destination sport dport");
  }
  const int family = fields[1] == "TCP4" ? AF_INET : AF_INET6;
  out->source = ReadV1Endpoint(family, fields[2], fields[4]);
  if (!out->source || !ReadV1Endpoint(family, fields[3], fields[5])) {
    return Fail(error, "v1 addresses or ports are not valid for " + std::string(fields[1]));
  }
  *consumed = end + 2;
  return ProxyHeaderParse::kDone;
}

ProxyHeaderParse ParseV2(std::string_view bytes, ProxyHeader* out, size_t* consumed,
                         Status* error) {
  if (bytes.size() < 16) return ProxyHeaderParse::kNeedMore;
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(bytes[i]); };
  const uint8_t version = byte(12) >> 4;
  const uint8_t command = byte(12) & 0x0f;
  if (version != 2) return Fail(error, "v2 signature with version " + std::to_string(version));
  if (command > 1) return Fail(error, "v2 command " + std::to_string(command) + " is unknown");
  const size_t length = static_cast<size_t>(byte(14)) << 8 | byte(15);
  if (16 + length > kMaxProxyHeaderBytes) {
    return Fail(error, "v2 header of " + std::to_string(16 + length) + " bytes is too long");
  }
  if (bytes.size() < 16 + length) return ProxyHeaderParse::kNeedMore;
  *consumed = 16 + length;
  const uint8_t family = byte(13);
  // LOCAL: the balancer's own connection; addresses, if any, are to be ignored.
  if (command == 0) {
    out->source.reset();
    return ProxyHeaderParse::kDone;
  }
  IpEndpoint source;
  if (family == 0x11) {  // TCP over IPv4: source, destination, source port, destination port
    if (length < 12) return Fail(error, "v2 TCP4 addresses need 12 bytes");
    auto* in = reinterpret_cast<sockaddr_in*>(&source.storage);
    in->sin_family = AF_INET;
    std::memcpy(&in->sin_addr, bytes.data() + 16, 4);
    std::memcpy(&in->sin_port, bytes.data() + 24, 2);
  } else if (family == 0x21) {  // TCP over IPv6
    if (length < 36) return Fail(error, "v2 TCP6 addresses need 36 bytes");
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&source.storage);
    in6->sin6_family = AF_INET6;
    std::memcpy(&in6->sin6_addr, bytes.data() + 16, 16);
    std::memcpy(&in6->sin6_port, bytes.data() + 48, 2);
  } else if (family == 0x00) {  // UNSPEC: the balancer could not say
    out->source.reset();
    return ProxyHeaderParse::kDone;
  } else {
    return Fail(error, "v2 address family " + std::to_string(family) + " is not TCP");
  }
  out->source = source;
  return ProxyHeaderParse::kDone;
}

}  // namespace

ProxyHeaderParse ParseProxyHeader(std::string_view bytes, ProxyHeader* out, size_t* consumed,
                                  Status* error) {
  // Decide the version as soon as the bytes allow; a prefix of neither is an error at once.
  const size_t v2_seen = std::min(bytes.size(), kV2Signature.size());
  if (bytes.substr(0, v2_seen) == kV2Signature.substr(0, v2_seen)) {
    if (bytes.size() < kV2Signature.size()) return ProxyHeaderParse::kNeedMore;
    return ParseV2(bytes, out, consumed, error);
  }
  const size_t v1_seen = std::min(bytes.size(), kV1Prefix.size());
  if (bytes.substr(0, v1_seen) == kV1Prefix.substr(0, v1_seen)) {
    if (bytes.size() < kV1Prefix.size()) return ProxyHeaderParse::kNeedMore;
    return ParseV1(bytes, out, consumed, error);
  }
  return Fail(error, "missing (the connection does not start with a v1 or v2 header)");
}

}  // namespace deputy
