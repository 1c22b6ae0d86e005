#include "http/request_head_parser.h"

#include <algorithm>

namespace deputy {

RequestHeadParser::RequestHeadParser(size_t max_head_bytes) : max_head_bytes_(max_head_bytes) {
  llhttp_settings_init(&settings_);
  settings_.on_url = &RequestHeadParser::OnUrl;
  settings_.on_header_field = &RequestHeadParser::OnHeaderField;
  settings_.on_header_value = &RequestHeadParser::OnHeaderValue;
  settings_.on_headers_complete = &RequestHeadParser::OnHeadersComplete;
  llhttp_init(&parser_, HTTP_REQUEST, &settings_);
  parser_.data = this;
}

int RequestHeadParser::OnUrl(llhttp_t* parser, const char* at, size_t length) {
  static_cast<RequestHeadParser*>(parser->data)->head_.target.append(at, length);
  return 0;
}

int RequestHeadParser::OnHeaderField(llhttp_t* parser, const char* at, size_t length) {
  auto* self = static_cast<RequestHeadParser*>(parser->data);
  if (self->in_value_ || self->head_.headers.empty()) {
    self->head_.headers.emplace_back();
    self->in_value_ = false;
  }
  self->head_.headers.back().first.append(at, length);
  return 0;
}

int RequestHeadParser::OnHeaderValue(llhttp_t* parser, const char* at, size_t length) {
  auto* self = static_cast<RequestHeadParser*>(parser->data);
  self->in_value_ = true;
  self->head_.headers.back().second.append(at, length);
  return 0;
}

int RequestHeadParser::OnHeadersComplete(llhttp_t* parser) {
  auto* self = static_cast<RequestHeadParser*>(parser->data);
  self->head_.method = llhttp_method_name(static_cast<llhttp_method_t>(parser->method));
  self->head_.version_major = parser->http_major;
  self->head_.version_minor = parser->http_minor;
  // 2: no body, and stop here so whatever follows the head stays unparsed.
  return 2;
}

RequestHeadParser::State RequestHeadParser::Fail(ErrorCode code, std::string message) {
  state_ = State::kError;
  error_ = Status(code, std::move(message));
  return state_;
}

RequestHeadParser::State RequestHeadParser::Feed(Buffer& input) {
  while (state_ == State::kNeedMore && !input.empty()) {
    std::span<const uint8_t> run = input.Front();
    // Never hand llhttp more than the head may still grow by, so the limit holds exactly.
    size_t room = max_head_bytes_ - consumed_;
    size_t length = std::min(run.size(), room + 1);
    const char* data = reinterpret_cast<const char*>(run.data());
    llhttp_errno_t rc = llhttp_execute(&parser_, data, length);
    if (rc == HPE_PAUSED_UPGRADE) {
      size_t used = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data);
      if (used > 0) last_byte_ = data[used - 1];
      consumed_ += used;
      input.Drain(used);
      if (consumed_ > max_head_bytes_) {
        return Fail(ErrorCode::kHeadersTooLarge,
                    "request head exceeds " + std::to_string(max_head_bytes_) + " bytes");
      }
      // llhttp 8 also ends a head at a CR followed by any byte (which it then swallows) and
      // takes a request line without a version as HTTP/0.9; neither is a valid HTTP/1.x head.
      if (last_byte_ != '\n') {
        return Fail(ErrorCode::kBadRequest,
                    "malformed request: the head does not end with an empty line");
      }
      if (head_.version_major != 1 || head_.version_minor > 1) {
        return Fail(ErrorCode::kBadRequest, "malformed request: only HTTP/1.0 and 1.1 are spoken");
      }
      state_ = State::kComplete;
      return state_;
    }
    if (rc != HPE_OK) {
      return Fail(ErrorCode::kBadRequest,
                  std::string("malformed request: ") + llhttp_get_error_reason(&parser_));
    }
    if (length > 0) last_byte_ = data[length - 1];
    consumed_ += length;
    input.Drain(length);
    if (consumed_ > max_head_bytes_) {
      return Fail(ErrorCode::kHeadersTooLarge,
                  "request head exceeds " + std::to_string(max_head_bytes_) + " bytes");
    }
  }
  return state_;
}

RequestHeadParser::State RequestHeadParser::Finish() {
  if (state_ != State::kNeedMore) return state_;
  if (consumed_ == 0) return Fail(ErrorCode::kBadRequest, "connection closed before a request");
  return Fail(ErrorCode::kBadRequest, "connection closed in the middle of the request head");
}

}  // namespace deputy
