#pragma once

#include <llhttp.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/buffer.h"
#include "base/status.h"

namespace deputy {

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // Header returns the first header named `name` (case-insensitive), or "" when absent.
  std::string_view Header(std::string_view name) const;
  // HeaderList joins every line of header `name` with ", " (RFC 9110 section 5.3).
  std::string HeaderList(std::string_view name) const;
};

// ResponseParser reads one HTTP/1.x response with llhttp, enforcing limits on the head, the
// trailers and the body so a hostile server cannot make us buffer without bound. Interim 1xx
// responses are skipped. Only a 200's body is read: any other final response is complete at the
// end of its head, so a large error page or redirect body is never buffered.
class ResponseParser {
 public:
  enum class State { kNeedMore, kComplete, kError };

  ResponseParser(size_t max_head_bytes, size_t max_body_bytes);
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // Feed consumes all of `input`.
  State Feed(Buffer& input);
  // Finish reports the end of the connection (ends a body delimited by connection close).
  State Finish();

  HttpResponse& response() { return response_; }
  // head_complete: the final response's head has been read, so a connection that ends now
  // cuts the response short rather than never answering.
  bool head_complete() const { return head_complete_; }
  const Status& error() const { return error_; }

 private:
  static int OnHeaderField(llhttp_t* parser, const char* at, size_t length);
  static int OnHeaderValue(llhttp_t* parser, const char* at, size_t length);
  static int OnHeadersComplete(llhttp_t* parser);
  static int OnBody(llhttp_t* parser, const char* at, size_t length);
  static int OnMessageComplete(llhttp_t* parser);

  State Fail(ErrorCode code, std::string message);
  int CountTrailer(size_t length);

  llhttp_t parser_{};
  llhttp_settings_t settings_{};
  size_t max_head_bytes_;
  size_t max_body_bytes_;
  size_t head_bytes_ = 0;
  bool head_complete_ = false;
  bool in_value_ = false;
  bool interim_ = false;
  size_t trailer_bytes_ = 0;
  HttpResponse response_;
  State state_ = State::kNeedMore;
  Status error_;
};

}  // namespace deputy
