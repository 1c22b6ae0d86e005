// Fuzzes ResponseParser, which reads what a well-known server (anyone's web server) answers.
//
// Input: [head limit][body limit][size1][size2][size3][response bytes]. The head limit is 8192
// bytes when its byte is 0, else byte * 33; the body limit 65536 when its byte is 0, else
// byte * byte. The response arrives in pieces whose sizes cycle through size1..size3 (0: all
// that is left), each its own Buffer slice as a socket read would be.

#include <algorithm>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzzer.h"
#include "http/response_parser.h"

namespace deputy::fuzz::response {
namespace {

using State = ResponseParser::State;

std::string Upper(std::string text) {
  for (char& c : text) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
  return text;
}

struct Outcome {
  State state = State::kNeedMore;
  ErrorCode error = ErrorCode::kOk;
  HttpResponse response;
};

// Run parses `chunker`'s pieces and checks what must hold after every step.
Outcome Run(size_t max_head, size_t max_body, Chunker chunker) {
  ResponseParser parser(max_head, max_body);
  Outcome out;
  while (!chunker.done()) {
    Buffer read;
    read.Append(chunker.Next());
    const State previous = out.state;
    out.state = parser.Feed(read);
    // Feed consumes all of its input, even on an error.
    DEPUTY_FUZZ_CHECK(read.empty());
    if (previous != State::kNeedMore) DEPUTY_FUZZ_CHECK(out.state == previous);
    DEPUTY_FUZZ_CHECK(parser.response().body.size() <= max_body);
  }
  if (out.state == State::kNeedMore) out.state = parser.Finish();
  DEPUTY_FUZZ_CHECK(out.state != State::kNeedMore);
  DEPUTY_FUZZ_CHECK(parser.Finish() == out.state);

  HttpResponse& response = parser.response();
  DEPUTY_FUZZ_CHECK(response.body.size() <= max_body);
  // The head limit is checked per piece, so a head may pass it by at most the piece that
  // completes it (one Buffer slice); what a server can make us store stays bounded.
  size_t head_stored = 0;
  for (const auto& [name, value] : response.headers) head_stored += name.size() + value.size();
  if (max_head != std::numeric_limits<size_t>::max()) {
    DEPUTY_FUZZ_CHECK(head_stored <= max_head + Buffer::kSliceSize);
  }
  if (out.state == State::kComplete) {
    DEPUTY_FUZZ_CHECK(parser.error().ok());
    // llhttp takes up to three digits (even "0"); the caller judges the value.
    DEPUTY_FUZZ_CHECK(response.status >= 0 && response.status <= 999);
  } else {
    out.error = parser.error().code();
    DEPUTY_FUZZ_CHECK(out.error == ErrorCode::kHttpProtocolError ||
                      out.error == ErrorCode::kResponseIncomplete ||
                      out.error == ErrorCode::kDocumentTooLarge);
    DEPUTY_FUZZ_CHECK(IsPrintableAscii(parser.error().message()));
  }
  // Header() finds the first header of a name, whatever the case it is asked in.
  for (const auto& [name, value] : response.headers) {
    const std::string upper = Upper(name);
    const auto first =
        std::find_if(response.headers.begin(), response.headers.end(),
                     [&](const auto& header) { return Upper(header.first) == upper; });
    DEPUTY_FUZZ_CHECK(response.Header(upper).data() == first->second.data());
  }
  out.response = std::move(response);
  return out;
}

}  // namespace

DEPUTY_FUZZER(response) {
  FuzzInput input(data, size);
  const uint8_t head_limit = input.TakeByte();
  const uint8_t body_limit = input.TakeByte();
  const size_t max_head = head_limit == 0 ? 8192 : head_limit * size_t{33};
  const size_t max_body = body_limit == 0 ? 65536 : body_limit * size_t{body_limit};
  std::vector<uint8_t> sizes = {input.TakeByte(), input.TakeByte(), input.TakeByte()};
  const std::string_view payload = input.rest();

  Run(max_head, max_body, Chunker(payload, sizes));

  // Without a head limit (which is per piece by design), how the bytes arrive must not change
  // the outcome.
  constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();
  const Outcome chunked = Run(kUnlimited, max_body, Chunker(payload, sizes));
  const Outcome whole = Run(kUnlimited, max_body, Chunker(payload, {}));
  DEPUTY_FUZZ_CHECK(chunked.state == whole.state);
  DEPUTY_FUZZ_CHECK(chunked.error == whole.error);
  if (chunked.state == State::kComplete) {
    DEPUTY_FUZZ_CHECK(chunked.response.status == whole.response.status);
    DEPUTY_FUZZ_CHECK(chunked.response.headers == whole.response.headers);
    DEPUTY_FUZZ_CHECK(chunked.response.body == whole.response.body);
  }
}

}  // namespace deputy::fuzz::response
