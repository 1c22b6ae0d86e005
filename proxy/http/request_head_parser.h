#pragma once

#include <llhttp.h>

#include <string>
#include <utility>
#include <vector>

#include "base/buffer.h"
#include "base/status.h"

namespace deputy {

struct RequestHead {
  std::string method;
  std::string target;
  int version_major = 1;
  int version_minor = 1;
  std::vector<std::pair<std::string, std::string>> headers;
};

// RequestHeadParser reads one HTTP/1.x request head with llhttp, and nothing after it: bytes
// that follow the head stay in the caller's buffer (a CONNECT client's early data).
class RequestHeadParser {
 public:
  enum class State { kNeedMore, kComplete, kError };

  explicit RequestHeadParser(size_t max_head_bytes);
  RequestHeadParser(const RequestHeadParser&) = delete;
  RequestHeadParser& operator=(const RequestHeadParser&) = delete;

  // Feed consumes bytes of `input` up to the end of the head.
  State Feed(Buffer& input);
  // Finish reports a connection that ended before the head did.
  State Finish();

  const RequestHead& head() const { return head_; }
  // error() explains kError: kBadRequest or kHeadersTooLarge.
  const Status& error() const { return error_; }

 private:
  static int OnUrl(llhttp_t* parser, const char* at, size_t length);
  static int OnHeaderField(llhttp_t* parser, const char* at, size_t length);
  static int OnHeaderValue(llhttp_t* parser, const char* at, size_t length);
  static int OnHeadersComplete(llhttp_t* parser);

  State Fail(ErrorCode code, std::string message);

  llhttp_t parser_{};
  llhttp_settings_t settings_{};
  size_t max_head_bytes_;
  size_t consumed_ = 0;
  char last_byte_ = 0;
  bool in_value_ = false;
  RequestHead head_;
  State state_ = State::kNeedMore;
  Status error_;
};

}  // namespace deputy
