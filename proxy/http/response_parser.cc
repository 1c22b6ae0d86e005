#include "http/response_parser.h"

#include <strings.h>

namespace deputy {

std::string_view HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) {
      return value;
    }
  }
  return {};
}

std::string HttpResponse::HeaderList(std::string_view name) const {
  std::string joined;
  for (const auto& [key, value] : headers) {
    if (key.size() != name.size() || strncasecmp(key.data(), name.data(), name.size()) != 0) {
      continue;
    }
    if (!joined.empty()) joined += ", ";
    joined += value;
  }
  return joined;
}

ResponseParser::ResponseParser(size_t max_head_bytes, size_t max_body_bytes)
    : max_head_bytes_(max_head_bytes), max_body_bytes_(max_body_bytes) {
  llhttp_settings_init(&settings_);
  settings_.on_header_field = &ResponseParser::OnHeaderField;
  settings_.on_header_value = &ResponseParser::OnHeaderValue;
  settings_.on_headers_complete = &ResponseParser::OnHeadersComplete;
  settings_.on_body = &ResponseParser::OnBody;
  settings_.on_message_complete = &ResponseParser::OnMessageComplete;
  llhttp_init(&parser_, HTTP_RESPONSE, &settings_);
  parser_.data = this;
}

int ResponseParser::CountTrailer(size_t length) {
  trailer_bytes_ += length;
  if (trailer_bytes_ <= max_head_bytes_) return 0;
  error_ = Status(ErrorCode::kHttpProtocolError,
                  "response trailers exceed " + std::to_string(max_head_bytes_) + " bytes");
  return -1;
}

int ResponseParser::OnHeaderField(llhttp_t* parser, const char* at, size_t length) {
  auto* self = static_cast<ResponseParser*>(parser->data);
  // After the head, fields are trailers: bounded like a head, and not kept.
  if (self->head_complete_) return self->CountTrailer(length);
  if (self->in_value_ || self->response_.headers.empty()) {
    self->response_.headers.emplace_back();
    self->in_value_ = false;
  }
  self->response_.headers.back().first.append(at, length);
  return 0;
}

int ResponseParser::OnHeaderValue(llhttp_t* parser, const char* at, size_t length) {
  auto* self = static_cast<ResponseParser*>(parser->data);
  if (self->head_complete_) return self->CountTrailer(length);
  self->in_value_ = true;
  self->response_.headers.back().second.append(at, length);
  return 0;
}

int ResponseParser::OnHeadersComplete(llhttp_t* parser) {
  auto* self = static_cast<ResponseParser*>(parser->data);
  int status = parser->status_code;
  if (status >= 100 && status < 200 && status != 101) {
    // An interim response (100 Continue, 103 Early Hints): the real one follows.
    self->response_.headers.clear();
    self->in_value_ = false;
    self->interim_ = true;
    return 0;
  }
  self->head_complete_ = true;
  self->response_.status = status;
  if (status != 200) {
    // Only a 200's body is a document; for any other status the head says all we use.
    self->state_ = State::kComplete;
    return HPE_PAUSED;
  }
  if (parser->content_length > self->max_body_bytes_ && (parser->flags & F_CONTENT_LENGTH) != 0) {
    self->error_ = Status(ErrorCode::kDocumentTooLarge,
                          "response announces " + std::to_string(parser->content_length) +
                              " bytes; the limit is " + std::to_string(self->max_body_bytes_));
    return -1;
  }
  return 0;
}

int ResponseParser::OnBody(llhttp_t* parser, const char* at, size_t length) {
  auto* self = static_cast<ResponseParser*>(parser->data);
  if (self->response_.body.size() + length > self->max_body_bytes_) {
    self->error_ =
        Status(ErrorCode::kDocumentTooLarge,
               "response body exceeds " + std::to_string(self->max_body_bytes_) + " bytes");
    return -1;
  }
  self->response_.body.append(at, length);
  return 0;
}

int ResponseParser::OnMessageComplete(llhttp_t* parser) {
  auto* self = static_cast<ResponseParser*>(parser->data);
  if (self->interim_) {
    self->interim_ = false;
    return 0;
  }
  self->state_ = State::kComplete;
  return HPE_PAUSED;
}

ResponseParser::State ResponseParser::Fail(ErrorCode code, std::string message) {
  state_ = State::kError;
  if (error_.ok()) error_ = Status(code, std::move(message));
  return state_;
}

ResponseParser::State ResponseParser::Feed(Buffer& input) {
  while (state_ == State::kNeedMore && !input.empty()) {
    std::span<const uint8_t> run = input.Front();
    const char* data = reinterpret_cast<const char*>(run.data());
    llhttp_errno_t rc = llhttp_execute(&parser_, data, run.size());
    if (!head_complete_) {
      head_bytes_ += run.size();
      if (head_bytes_ > max_head_bytes_) {
        input.Clear();
        return Fail(ErrorCode::kHttpProtocolError,
                    "response head exceeds " + std::to_string(max_head_bytes_) + " bytes");
      }
    }
    input.Drain(run.size());
    if (rc == HPE_PAUSED) break;  // message complete; anything after it is ignored
    if (rc != HPE_OK) {
      input.Clear();
      return Fail(ErrorCode::kHttpProtocolError,
                  std::string("malformed response: ") + llhttp_get_error_reason(&parser_));
    }
  }
  input.Clear();
  return state_;
}

ResponseParser::State ResponseParser::Finish() {
  if (state_ != State::kNeedMore) return state_;
  if (llhttp_finish(&parser_) == HPE_OK && state_ == State::kComplete) return state_;
  if (state_ == State::kComplete) return state_;
  if (head_complete()) {
    return Fail(ErrorCode::kResponseIncomplete, "connection closed after " +
                                                    std::to_string(response_.body.size()) +
                                                    " bytes of the response body");
  }
  return Fail(ErrorCode::kHttpProtocolError, "connection closed before the response was complete");
}

}  // namespace deputy
