#include "frontends/socks5_messages.h"

#include "base/ascii.h"

namespace deputy::socks5 {

namespace {

uint8_t At(std::string_view bytes, size_t i) { return static_cast<uint8_t>(bytes[i]); }

Parsed Fail(Status* error, std::string message) {
  *error = Status(ErrorCode::kBadRequest, std::move(message));
  return Parsed::kError;
}

}  // namespace

Parsed ReadGreeting(std::string_view bytes, Greeting* out, size_t* consumed, Status* error) {
  if (bytes.empty()) return Parsed::kNeedMore;
  if (At(bytes, 0) != kVersion) {
    return Fail(error,
                "not a SOCKS 5 greeting (version byte " + std::to_string(At(bytes, 0)) + ")");
  }
  if (bytes.size() < 2) return Parsed::kNeedMore;
  const size_t count = At(bytes, 1);
  if (count == 0) return Fail(error, "the SOCKS greeting offers no authentication method");
  if (bytes.size() < 2 + count) return Parsed::kNeedMore;
  out->methods.assign(bytes.begin() + 2, bytes.begin() + 2 + static_cast<ptrdiff_t>(count));
  *consumed = 2 + count;
  return Parsed::kDone;
}

Parsed ReadUserPass(std::string_view bytes, UserPass* out, size_t* consumed, Status* error) {
  if (bytes.empty()) return Parsed::kNeedMore;
  // RFC 1929's own version byte.
  if (At(bytes, 0) != 1) {
    return Fail(error, "not a SOCKS username/password request (version byte " +
                           std::to_string(At(bytes, 0)) + ")");
  }
  if (bytes.size() < 2) return Parsed::kNeedMore;
  const size_t user_length = At(bytes, 1);
  if (bytes.size() < 2 + user_length + 1) return Parsed::kNeedMore;
  const size_t password_length = At(bytes, 2 + user_length);
  const size_t total = 2 + user_length + 1 + password_length;
  if (bytes.size() < total) return Parsed::kNeedMore;
  if (user_length == 0) return Fail(error, "the SOCKS user name is empty");
  out->user.assign(bytes.substr(2, user_length));
  out->password.assign(bytes.substr(3 + user_length, password_length));
  if (HasControlCharacter(out->user) || HasControlCharacter(out->password)) {
    return Fail(error, "the SOCKS credentials hold control characters");
  }
  *consumed = total;
  return Parsed::kDone;
}

Parsed ReadRequest(std::string_view bytes, Request* out, size_t* consumed, Status* error) {
  if (bytes.empty()) return Parsed::kNeedMore;
  if (At(bytes, 0) != kVersion) {
    return Fail(error, "not a SOCKS 5 request (version byte " + std::to_string(At(bytes, 0)) + ")");
  }
  if (bytes.size() < 4) return Parsed::kNeedMore;
  if (At(bytes, 2) != 0) return Fail(error, "the SOCKS request's reserved byte is not 0");
  out->command = At(bytes, 1);
  out->address_type = At(bytes, 3);
  out->host.clear();
  size_t address_length = 0;
  size_t address_start = 4;
  switch (out->address_type) {
    case kAddressIpv4:
      address_length = 4;
      break;
    case kAddressIpv6:
      address_length = 16;
      break;
    case kAddressDomain:
      if (bytes.size() < 5) return Parsed::kNeedMore;
      address_length = At(bytes, 4);
      address_start = 5;
      if (address_length == 0) return Fail(error, "the SOCKS request names an empty host");
      break;
    default:
      *consumed = 4;
      return Parsed::kDone;
  }
  const size_t total = address_start + address_length + 2;
  if (bytes.size() < total) return Parsed::kNeedMore;
  if (out->address_type == kAddressDomain) {
    out->host.assign(bytes.substr(address_start, address_length));
  }
  out->port = static_cast<uint16_t>(At(bytes, total - 2) << 8 | At(bytes, total - 1));
  *consumed = total;
  return Parsed::kDone;
}

Reply ReplyFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kDenied:
    case ErrorCode::kPolicyDenied:
    case ErrorCode::kDestinationProhibited:
      return Reply::kNotAllowed;
    case ErrorCode::kDnsError:
      return Reply::kHostUnreachable;
    case ErrorCode::kConnectionRefused:
      return Reply::kConnectionRefused;
    case ErrorCode::kDnsTimeout:
    case ErrorCode::kConnectionTimeout:
    case ErrorCode::kLookupTimeout:
    case ErrorCode::kRequestTimeout:
      return Reply::kTtlExpired;
    default:
      return Reply::kGeneralFailure;
  }
}

std::string MethodChoice(uint8_t method) {
  return std::string{static_cast<char>(kVersion), static_cast<char>(method)};
}

std::string UserPassStatus(bool success) {
  return std::string{static_cast<char>(1), static_cast<char>(success ? 0 : 1)};
}

std::string RequestReply(Reply code) {
  std::string reply{static_cast<char>(kVersion), static_cast<char>(code), 0,
                    static_cast<char>(kAddressIpv4)};
  reply.append(6, '\0');
  return reply;
}

}  // namespace deputy::socks5
