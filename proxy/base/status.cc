#include "base/status.h"

#include <array>

namespace deputy {

namespace {

constexpr std::array<ErrorInfo, static_cast<size_t>(ErrorCode::kInternal) + 1> kErrors = {{
    {"ok", "", 200},
    {"bad_request", "http_request_error", 400},
    {"method_not_allowed", "http_request_error", 405},
    {"headers_too_large", "http_request_error", 431},
    {"request_timeout", "http_request_error", 408},
    {"denied", "http_request_denied", 403},
    {"dns_error", "dns_error", 502},
    {"dns_timeout", "dns_timeout", 504},
    {"connection_refused", "connection_refused", 502},
    {"connection_timeout", "connection_timeout", 504},
    {"connection_terminated", "connection_terminated", 502},
    {"connection_limit", "connection_limit_reached", 503},
    {"tls_certificate_error", "tls_certificate_error", 502},
    {"tls_protocol_error", "tls_protocol_error", 502},
    {"lookup_status", "destination_not_found", 502},
    {"bad_document", "destination_not_found", 502},
    {"document_too_large", "http_response_body_size", 502},
    {"bad_redirect", "http_protocol_error", 502},
    {"http_protocol_error", "http_protocol_error", 502},
    {"lookup_timeout", "http_response_timeout", 504},
    {"idle_timeout", "connection_read_timeout", 504},
    {"invalid_config", "proxy_configuration_error", 500},
    // RFC 9209 has no type for a client that leaves; never sent, since the client is gone.
    {"client_closed", "http_request_error", 400},
    {"truncated", "connection_terminated", 502},
    {"lookup_limit", "connection_limit_reached", 503},
    {"response_incomplete", "http_response_incomplete", 502},
    {"destination_ip_prohibited", "destination_ip_prohibited", 403},
    {"policy_denied", "http_request_denied", 403},
    // RFC 9209 has no type for proxy authentication; the client is refused, so it is denied.
    {"auth_required", "http_request_denied", 407},
    {"auth_failed", "http_request_denied", 407},
    {"auth_rate_limited", "http_request_denied", 429},
    {"auth_overloaded", "connection_limit_reached", 503},
    // Never sent: the peer is a load balancer that sent no usable header; it is closed.
    {"proxy_protocol_error", "http_request_error", 400},
    // Never sent: the client's TLS handshake failed, so there is no channel to answer on.
    {"client_tls_error", "tls_protocol_error", 400},
    {"internal_error", "proxy_internal_error", 500},
}};

}  // namespace

const ErrorInfo& Describe(ErrorCode code) { return kErrors[static_cast<size_t>(code)]; }

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(label());
  out += ": ";
  out += message_;
  return out;
}

}  // namespace deputy
