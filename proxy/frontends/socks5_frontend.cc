#include "frontends/socks5_frontend.h"

#include <algorithm>

#include "base/untrusted_text.h"
#include "config/services_db.h"
#include "net/names.h"

namespace deputy {

namespace {

// Beyond the longest message, what a client may pipeline before deputy has read its request.
constexpr size_t kMaxPendingBytes = 3 * socks5::kMaxMessageBytes;

}  // namespace

Socks5Frontend::Socks5Frontend(EventLoop& loop, const ListenerConfig& listener,
                               const Config& config, ProxyAuthenticator* authenticator)
    : RequestFrontend(loop, listener.header_timeout_ms, "SOCKS negotiation"),
      config_(config),
      authenticator_(authenticator) {}

void Socks5Frontend::OnData(Buffer& data) {
  pending_.MoveFrom(data);
  Advance();
  // While a check runs, reads are off: what is pending is one read, waiting for its turn.
  if (phase_ != Phase::kDone && phase_ != Phase::kAuthenticating &&
      pending_.size() > kMaxPendingBytes) {
    Complete(Status(ErrorCode::kBadRequest, "the SOCKS client sent " +
                                                std::to_string(pending_.size()) +
                                                " bytes without completing its request"));
  }
}

void Socks5Frontend::Advance() {
  while (phase_ == Phase::kGreeting || phase_ == Phase::kUserPass || phase_ == Phase::kRequest) {
    std::string front(std::min(pending_.size(), socks5::kMaxMessageBytes), '\0');
    pending_.CopyOut(front.data(), front.size());
    size_t consumed = 0;
    Status error;
    socks5::Parsed parsed = socks5::Parsed::kNeedMore;
    if (phase_ == Phase::kGreeting) {
      socks5::Greeting greeting;
      parsed = socks5::ReadGreeting(front, &greeting, &consumed, &error);
      if (parsed == socks5::Parsed::kDone) {
        pending_.Drain(consumed);
        if (!OnGreeting(greeting)) return;
        continue;
      }
    } else if (phase_ == Phase::kUserPass) {
      socks5::UserPass credentials;
      parsed = socks5::ReadUserPass(front, &credentials, &consumed, &error);
      if (parsed == socks5::Parsed::kDone) {
        pending_.Drain(consumed);
        OnUserPass(std::move(credentials));
        return;
      }
    } else {
      socks5::Request request;
      parsed = socks5::ReadRequest(front, &request, &consumed, &error);
      if (parsed == socks5::Parsed::kDone) {
        pending_.Drain(consumed);
        OnRequest(request);
        return;
      }
    }
    if (parsed == socks5::Parsed::kError) Complete(error);
    return;
  }
}

bool Socks5Frontend::OnGreeting(const socks5::Greeting& greeting) {
  const uint8_t wanted =
      authenticator_ != nullptr ? socks5::kMethodUserPass : socks5::kMethodNoAuth;
  if (std::find(greeting.methods.begin(), greeting.methods.end(), wanted) ==
      greeting.methods.end()) {
    no_acceptable_method_ = true;
    Complete(authenticator_ != nullptr
                 ? Status(ErrorCode::kAuthRequired,
                          "the SOCKS client does not offer username/password authentication")
                 : Status(ErrorCode::kBadRequest,
                          "the SOCKS client does not offer the no-authentication method"));
    return false;
  }
  Send(socks5::MethodChoice(wanted));
  // A write that fails at once has ended the session and stopped this frontend.
  if (client_ == nullptr) return false;
  phase_ = authenticator_ != nullptr ? Phase::kUserPass : Phase::kRequest;
  return true;
}

void Socks5Frontend::OnUserPass(socks5::UserPass credentials) {
  phase_ = Phase::kAuthenticating;
  // Nothing more is read until the check is done; what the client pipelines waits. The check
  // has a timeout of its own, so a slow check does not count against the negotiation.
  client_->SetReadEnabled(false);
  StopTimer();
  BasicCredentials basic{std::move(credentials.user), std::move(credentials.password)};
  check_ =
      authenticator_->Authenticate(client_ip_, basic, [this, user = basic.user](Status status) {
        if (client_ == nullptr) return;  // stopped while the answer was on its way
        if (!status.ok()) {
          Complete(std::move(status));
          return;
        }
        user_ = user;
        Send(socks5::UserPassStatus(true));
        if (client_ == nullptr) return;
        phase_ = Phase::kRequest;
        RestartTimer();
        client_->SetReadEnabled(true);
        Advance();
      });
}

void Socks5Frontend::OnRequest(const socks5::Request& request) {
  phase_ = Phase::kDone;
  // Bytes after the request belong to the tunnel; the session reads the client from here on.
  early_data_->MoveFrom(pending_);
  client_->SetReadEnabled(false);
  if (request.command != socks5::kCommandConnect) {
    request_reply_ = socks5::Reply::kCommandNotSupported;
    Complete(Status(
        ErrorCode::kMethodNotAllowed,
        "SOCKS command " + std::to_string(request.command) + " is not supported; only CONNECT is"));
    return;
  }
  if (request.address_type != socks5::kAddressDomain || IsIpLiteral(request.host)) {
    request_reply_ = socks5::Reply::kAddressTypeNotSupported;
    const bool address = request.address_type == socks5::kAddressIpv4 ||
                         request.address_type == socks5::kAddressIpv6 ||
                         request.address_type == socks5::kAddressDomain;
    Complete(Status(ErrorCode::kBadRequest,
                    address
                        ? "the SOCKS request names an IP address; deputy needs a domain to "
                          "look up"
                        : "unknown SOCKS address type " + std::to_string(request.address_type)));
    return;
  }
  Result<std::string> domain = NormalizeDomain(request.host);
  if (!domain.ok()) {
    Complete(domain.status());
    return;
  }
  if (request.port == 0) {
    Complete(Status(ErrorCode::kBadRequest, "the SOCKS request names port 0"));
    return;
  }
  Destination destination;
  destination.domain = std::move(domain).value();
  destination.port = request.port;
  destination.service = ServiceForPort(request.port, config_).value_or("");
  Complete(ClientRequest{std::move(destination), user_});
}

void Socks5Frontend::OnEndOfStream() {
  Complete(Status(ErrorCode::kBadRequest, "the SOCKS client closed before its request"));
}

void Socks5Frontend::Send(const std::string& bytes) {
  Buffer out;
  out.Append(bytes);
  client_->Write(out);
}

void Socks5Frontend::Established(ByteStream& client) {
  Buffer reply;
  reply.Append(socks5::RequestReply(socks5::Reply::kSucceeded));
  client.Write(reply);
}

bool Socks5Frontend::Refuse(ByteStream& client, const Status& status) {
  Buffer reply;
  switch (phase_) {
    case Phase::kGreeting:
      // Before a method is chosen there is no reply to give, except that none is acceptable.
      if (!no_acceptable_method_) return false;
      reply.Append(socks5::MethodChoice(socks5::kNoAcceptableMethod));
      break;
    case Phase::kUserPass:
    case Phase::kAuthenticating:
      reply.Append(socks5::UserPassStatus(false));
      break;
    case Phase::kRequest:
    case Phase::kDone:
      reply.Append(socks5::RequestReply(request_reply_.value_or(socks5::ReplyFor(status.code()))));
      break;
  }
  client.Write(reply);
  return true;
}

}  // namespace deputy
