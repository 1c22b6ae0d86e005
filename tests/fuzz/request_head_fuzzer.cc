// Fuzzes RequestHeadParser, which reads the CONNECT request head straight from a client.
//
// Input: [limit][size1][size2][size3][request bytes]. The head limit is 8192 bytes when `limit`
// is 0, else limit * 33. The request arrives in pieces whose sizes cycle through size1..size3
// (0: all that is left), each piece its own Buffer slice as a socket read would be.

#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzzer.h"
#include "http/request_head_parser.h"

namespace deputy::fuzz::request_head {
namespace {

using State = RequestHeadParser::State;

struct Outcome {
  State state = State::kNeedMore;
  ErrorCode error = ErrorCode::kOk;
  size_t consumed = 0;  // bytes the parser took from the buffer
  std::string left;     // bytes it left there, with everything that arrived later
  RequestHead head;
};

// Run parses `payload` arriving in the pieces `chunker` cuts and checks what must hold after
// every Feed.
Outcome Run(size_t max_head, std::string_view payload, Chunker chunker) {
  RequestHeadParser parser(max_head);
  Buffer pending;
  Outcome out;
  while (!chunker.done()) {
    Buffer read;
    read.Append(chunker.Next());
    pending.MoveFrom(read);
    const size_t before = pending.size();
    const State previous = out.state;
    out.state = parser.Feed(pending);
    DEPUTY_FUZZ_CHECK(pending.size() <= before);
    out.consumed += before - pending.size();
    // A parser that has finished takes no more bytes and does not change its mind.
    if (previous != State::kNeedMore) {
      DEPUTY_FUZZ_CHECK(out.state == previous && pending.size() == before);
    }
    // Feed returns kNeedMore only once it has taken every byte it was given.
    if (out.state == State::kNeedMore) DEPUTY_FUZZ_CHECK(pending.empty());
    // The parser never reads past the byte that makes the head too large.
    DEPUTY_FUZZ_CHECK(out.consumed <= max_head + 1);
  }
  if (out.state == State::kNeedMore) {
    out.state = parser.Finish();
    DEPUTY_FUZZ_CHECK(out.state == State::kError);
    DEPUTY_FUZZ_CHECK(parser.error().code() == ErrorCode::kBadRequest);
  }
  DEPUTY_FUZZ_CHECK(parser.Finish() == out.state);
  out.left = pending.ToString();
  // Nothing is lost or reordered: the parser's bytes and the caller's bytes make the input.
  DEPUTY_FUZZ_CHECK(out.consumed + out.left.size() == payload.size());
  DEPUTY_FUZZ_CHECK(payload.substr(out.consumed) == out.left);

  if (out.state == State::kComplete) {
    DEPUTY_FUZZ_CHECK(parser.error().ok());
    DEPUTY_FUZZ_CHECK(out.consumed <= max_head);
    // A head ends with its blank line, so whatever follows is the client's early data.
    DEPUTY_FUZZ_CHECK(out.consumed > 0 && payload[out.consumed - 1] == '\n');
    const RequestHead& head = parser.head();
    DEPUTY_FUZZ_CHECK(!head.method.empty());
    // The parser reads HTTP/1.x heads only.
    DEPUTY_FUZZ_CHECK(head.version_major == 1 && head.version_minor <= 1);
    // Everything the head holds came from the consumed bytes: memory is bounded by the limit.
    size_t stored = head.method.size() + head.target.size();
    for (const auto& [name, value] : head.headers) stored += name.size() + value.size();
    DEPUTY_FUZZ_CHECK(stored <= out.consumed);
    out.head = head;
  } else {
    out.error = parser.error().code();
    DEPUTY_FUZZ_CHECK(out.error == ErrorCode::kBadRequest ||
                      out.error == ErrorCode::kHeadersTooLarge);
    DEPUTY_FUZZ_CHECK(IsPrintableAscii(parser.error().message()));
    // The limit is exact: too large means the head went one byte over it.
    if (out.error == ErrorCode::kHeadersTooLarge) DEPUTY_FUZZ_CHECK(out.consumed == max_head + 1);
  }
  return out;
}

bool SameHead(const RequestHead& a, const RequestHead& b) {
  return a.method == b.method && a.target == b.target && a.version_major == b.version_major &&
         a.version_minor == b.version_minor && a.headers == b.headers;
}

}  // namespace

DEPUTY_FUZZER(request_head) {
  FuzzInput input(data, size);
  const uint8_t limit = input.TakeByte();
  const size_t max_head = limit == 0 ? 8192 : limit * size_t{33};
  std::vector<uint8_t> sizes = {input.TakeByte(), input.TakeByte(), input.TakeByte()};
  const std::string_view payload = input.rest();

  const Outcome chunked = Run(max_head, payload, Chunker(payload, sizes));
  // How the bytes happen to arrive must not change the outcome.
  const Outcome whole = Run(max_head, payload, Chunker(payload, {}));
  DEPUTY_FUZZ_CHECK(chunked.state == whole.state);
  DEPUTY_FUZZ_CHECK(chunked.error == whole.error);
  // A malformed request leaves undrained whatever arrived with the bad byte, so only a head or
  // an overflow pins down how much was consumed.
  if (chunked.error != ErrorCode::kBadRequest) {
    DEPUTY_FUZZ_CHECK(chunked.consumed == whole.consumed);
  }
  DEPUTY_FUZZ_CHECK(SameHead(chunked.head, whole.head));
}

}  // namespace deputy::fuzz::request_head
