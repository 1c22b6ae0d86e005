#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace deputy::socks5 {

// The SOCKS version 5 messages deputy reads and writes (RFC 1928, with RFC 1929's
// username/password sub-negotiation). Each reader looks at the front of the bytes received so
// far and says whether a whole message is there; bytes after it are not its business.

inline constexpr uint8_t kVersion = 5;
inline constexpr uint8_t kMethodNoAuth = 0x00;
inline constexpr uint8_t kMethodUserPass = 0x02;
inline constexpr uint8_t kNoAcceptableMethod = 0xff;
inline constexpr uint8_t kCommandConnect = 0x01;
inline constexpr uint8_t kAddressIpv4 = 0x01;
inline constexpr uint8_t kAddressDomain = 0x03;
inline constexpr uint8_t kAddressIpv6 = 0x04;

// The longest message deputy reads: username/password with 255-byte fields (a request with
// a 255-byte name is 262 bytes).
inline constexpr size_t kMaxMessageBytes = 1 + 1 + 255 + 1 + 255;

// Reply codes (RFC 1928 section 6).
enum class Reply : uint8_t {
  kSucceeded = 0x00,
  kGeneralFailure = 0x01,
  kNotAllowed = 0x02,
  kNetworkUnreachable = 0x03,
  kHostUnreachable = 0x04,
  kConnectionRefused = 0x05,
  kTtlExpired = 0x06,
  kCommandNotSupported = 0x07,
  kAddressTypeNotSupported = 0x08,
};

enum class Parsed { kNeedMore, kDone, kError };

struct Greeting {
  std::vector<uint8_t> methods;
};

struct UserPass {
  std::string user;
  std::string password;
};

struct Request {
  uint8_t command = 0;
  uint8_t address_type = 0;
  std::string host;  // the name as sent (kAddressDomain), else empty
  uint16_t port = 0;
};

// Each reader sets `*consumed` on kDone and `*error` (kBadRequest) on kError. A request with
// an unknown address type is read as far as its type (4 bytes), for the reply to name it.
Parsed ReadGreeting(std::string_view bytes, Greeting* out, size_t* consumed, Status* error);
Parsed ReadUserPass(std::string_view bytes, UserPass* out, size_t* consumed, Status* error);
Parsed ReadRequest(std::string_view bytes, Request* out, size_t* consumed, Status* error);

// ReplyFor is the reply code that tells a SOCKS client how its request ended.
Reply ReplyFor(ErrorCode code);

// The bytes of each answer deputy sends.
std::string MethodChoice(uint8_t method);
std::string UserPassStatus(bool success);
// A reply to a request; the bound address is 0.0.0.0:0, since the client has no use for the
// address deputy connected from.
std::string RequestReply(Reply code);

}  // namespace deputy::socks5
