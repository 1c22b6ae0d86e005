#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace deputy {

// ErrorCode names every way a client's request can fail. Each code maps to one metric label,
// one RFC 9209 Proxy-Status error type and one HTTP status, so a failure reads the same in the
// client's response, in the access log and in Prometheus.
enum class ErrorCode : uint8_t {
  kOk,
  kBadRequest,
  kMethodNotAllowed,
  kHeadersTooLarge,
  kRequestTimeout,
  kDenied,
  kDnsError,
  kDnsTimeout,
  kConnectionRefused,
  kConnectionTimeout,
  kConnectionTerminated,
  kConnectionLimit,
  kTlsCertificateError,
  kTlsProtocolError,
  kLookupStatus,
  kBadDocument,
  kDocumentTooLarge,
  kBadRedirect,
  kHttpProtocolError,
  kLookupTimeout,
  kIdleTimeout,
  kInvalidConfig,
  kClientClosed,
  kTruncated,
  kLookupLimit,
  kResponseIncomplete,
  kDestinationProhibited,
  kPolicyDenied,
  kAuthRequired,
  kAuthFailed,
  kAuthRateLimited,
  kAuthOverloaded,
  kProxyProtocol,
  kClientTls,
  kInternal,
};

struct ErrorInfo {
  std::string_view label;         // metric label and access-log "result"
  std::string_view proxy_status;  // RFC 9209 error type
  int http_status;                // status a CONNECT client receives
};

// Describe returns the fixed description of `code`.
const ErrorInfo& Describe(ErrorCode code);

// Status is OK or an error code with a human-readable message for logs and Proxy-Status details.
class Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string_view label() const { return Describe(code_).label; }
  // ToString is "label: message", for logs.
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// Result holds a value or the Status explaining why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : state_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(state_);
  }
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace deputy
