// Fuzzes the SOCKS 5 message readers, which read whatever a client sends to a socks5
// listener. Input: one selector byte (which reader) and the bytes received so far.

#include <string_view>

#include "frontends/socks5_messages.h"
#include "fuzz/fuzzer.h"

namespace deputy::fuzz::socks5 {
namespace {

using deputy::socks5::Parsed;

// CheckReader checks what holds for every reader: a whole message ends within the bytes
// given, is read the same from exactly its own bytes, and is not whole one byte earlier; an
// error says why, printably.
template <typename Message, typename Reader>
void CheckReader(std::string_view bytes, Reader read, void (*check)(const Message&, size_t)) {
  Message message;
  size_t consumed = 0;
  Status error;
  const Parsed parsed = read(bytes, &message, &consumed, &error);
  if (parsed == Parsed::kError) {
    DEPUTY_FUZZ_CHECK(error.code() == ErrorCode::kBadRequest);
    DEPUTY_FUZZ_CHECK(IsPrintableAscii(error.message()));
    return;
  }
  if (parsed == Parsed::kNeedMore) return;
  DEPUTY_FUZZ_CHECK(consumed > 0 && consumed <= bytes.size());
  DEPUTY_FUZZ_CHECK(consumed <= deputy::socks5::kMaxMessageBytes);
  check(message, consumed);
  Message exact;
  size_t exact_consumed = 0;
  DEPUTY_FUZZ_CHECK(read(bytes.substr(0, consumed), &exact, &exact_consumed, &error) ==
                        Parsed::kDone &&
                    exact_consumed == consumed);
  Message shorter;
  DEPUTY_FUZZ_CHECK(read(bytes.substr(0, consumed - 1), &shorter, &exact_consumed, &error) ==
                    Parsed::kNeedMore);
}

void CheckGreeting(const deputy::socks5::Greeting& greeting, size_t consumed) {
  DEPUTY_FUZZ_CHECK(!greeting.methods.empty() && consumed == 2 + greeting.methods.size());
}

void CheckUserPass(const deputy::socks5::UserPass& credentials, size_t consumed) {
  DEPUTY_FUZZ_CHECK(!credentials.user.empty());
  DEPUTY_FUZZ_CHECK(consumed == 3 + credentials.user.size() + credentials.password.size());
}

void CheckRequest(const deputy::socks5::Request& request, size_t consumed) {
  DEPUTY_FUZZ_CHECK(request.address_type != deputy::socks5::kAddressDomain ||
                    (!request.host.empty() && consumed == 7 + request.host.size()));
}

}  // namespace

DEPUTY_FUZZER(socks5) {
  if (size == 0) return;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0:
      CheckReader<deputy::socks5::Greeting>(bytes, deputy::socks5::ReadGreeting, CheckGreeting);
      break;
    case 1:
      CheckReader<deputy::socks5::UserPass>(bytes, deputy::socks5::ReadUserPass, CheckUserPass);
      break;
    default:
      CheckReader<deputy::socks5::Request>(bytes, deputy::socks5::ReadRequest, CheckRequest);
      break;
  }
}

}  // namespace deputy::fuzz::socks5
