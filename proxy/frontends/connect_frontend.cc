#include "frontends/connect_frontend.h"

#include <charconv>

#include "base/ascii.h"
#include "config/services_db.h"
#include "http/basic_credentials.h"
#include "http/status_line.h"
#include "net/names.h"

namespace deputy {

ConnectFrontend::ConnectFrontend(EventLoop& loop, const ListenerConfig& listener,
                                 const Config& config, ProxyAuthenticator* authenticator)
    : RequestFrontend(loop, listener.header_timeout_ms, "request head"),
      config_(config),
      authenticator_(authenticator),
      parser_(listener.max_header_bytes) {}

void ConnectFrontend::OnData(Buffer& data) {
  RequestHeadParser::State state = parser_.Feed(data);
  if (state == RequestHeadParser::State::kNeedMore) return;
  StopTimer();
  // Bytes after the head belong to the tunnel; the session reads the client from here on.
  early_data_->MoveFrom(data);
  client_->SetReadEnabled(false);
  if (state == RequestHeadParser::State::kError) {
    Complete(parser_.error());
    return;
  }
  const RequestHead& head = parser_.head();
  http_minor_ = head.version_minor;
  if (head.method != "CONNECT") {
    Complete(Status(ErrorCode::kMethodNotAllowed,
                    "method " + QuoteUntrusted(head.method) + " is not allowed; use CONNECT"));
    return;
  }
  Result<Destination> destination = ParseAuthority(head.target, config_);
  if (!destination.ok()) {
    Complete(destination.status());
    return;
  }
  Authenticate(std::move(destination).value());
}

void ConnectFrontend::Authenticate(Destination destination) {
  if (authenticator_ == nullptr) {
    Complete(ClientRequest{std::move(destination), {}});
    return;
  }
  const std::string* value = nullptr;
  for (const auto& [name, field] : parser_.head().headers) {
    if (!EqualsIgnoringAsciiCase(name, "proxy-authorization")) continue;
    if (value != nullptr) {
      Complete(Status(ErrorCode::kBadRequest, "more than one Proxy-Authorization header"));
      return;
    }
    value = &field;
  }
  if (value == nullptr) {
    Complete(Status(ErrorCode::kAuthRequired, "proxy authentication required"));
    return;
  }
  Result<BasicCredentials> credentials = ParseBasicCredentials(TrimWhitespace(*value));
  if (!credentials.ok()) {
    Complete(credentials.status());
    return;
  }
  check_ = authenticator_->Authenticate(
      client_ip_, *credentials,
      [this, destination = std::move(destination), user = credentials->user](Status status) {
        if (!status.ok()) {
          Complete(std::move(status));
          return;
        }
        Complete(ClientRequest{destination, user});
      });
}

void ConnectFrontend::OnEndOfStream() {
  parser_.Finish();
  Complete(parser_.error());
}

Result<Destination> ConnectFrontend::ParseAuthority(std::string_view authority,
                                                    const Config& config) {
  size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == authority.size()) {
    return Status(ErrorCode::kBadRequest,
                  "CONNECT target " + QuoteUntrusted(authority) + " is not domain:service");
  }
  std::string_view host = authority.substr(0, colon);
  std::string_view tail = authority.substr(colon + 1);
  if (IsIpLiteral(host) || host.find(':') != std::string_view::npos) {
    return Status(ErrorCode::kBadRequest,
                  "CONNECT target " + QuoteUntrusted(host) + " is an IP literal, not a domain");
  }
  Result<std::string> domain = NormalizeDomain(host);
  if (!domain.ok()) return domain.status();

  Destination destination;
  destination.domain = std::move(domain).value();
  bool numeric = tail.find_first_not_of("0123456789") == std::string_view::npos;
  if (numeric) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), port);
    if (ec != std::errc() || end != tail.data() + tail.size() || port == 0 || port > 65535) {
      return Status(ErrorCode::kBadRequest,
                    "CONNECT port " + QuoteUntrusted(tail) + " is outside 1-65535");
    }
    destination.port = static_cast<uint16_t>(port);
    destination.service = ServiceForPort(destination.port.value(), config).value_or("");
    return destination;
  }
  if (!IsValidServiceName(tail)) {
    return Status(ErrorCode::kBadRequest,
                  "CONNECT service " + QuoteUntrusted(tail) + " is not a valid service name");
  }
  destination.service = NormalizeServiceName(tail);
  destination.port = PortForService(tail, config);
  return destination;
}

void ConnectFrontend::Established(ByteStream& client) {
  Buffer reply;
  reply.Append(http_minor_ == 0 ? "HTTP/1.0 200 Connection established\r\n\r\n"
                                : "HTTP/1.1 200 Connection established\r\n\r\n");
  client.Write(reply);
}

bool ConnectFrontend::Refuse(ByteStream& client, const Status& status) {
  Buffer reply;
  const bool challenge = authenticator_ != nullptr && Describe(status.code()).http_status == 407;
  reply.Append(
      ErrorResponse(status, http_minor_, challenge ? authenticator_->Challenge() : std::string()));
  client.Write(reply);
  return true;
}

}  // namespace deputy
