#pragma once

#include <memory>

#include "auth/proxy_authenticator.h"
#include "config/config.h"
#include "frontends/request_frontend.h"
#include "http/request_head_parser.h"

namespace deputy {

// ConnectFrontend reads an HTTP/1.x CONNECT request whose authority is `domain:service` or
// `domain:port`, answers 200 only once the upstream is verified, and otherwise an error status
// with a Proxy-Status header (RFC 9209) and a one-line body. With an authenticator, the
// request must carry `Proxy-Authorization: Basic` credentials that it accepts; a 407 refusal
// carries the Proxy-Authenticate challenge.
class ConnectFrontend : public RequestFrontend {
 public:
  ConnectFrontend(EventLoop& loop, const ListenerConfig& listener, const Config& config,
                  ProxyAuthenticator* authenticator);

  void Established(ByteStream& client) override;
  bool Refuse(ByteStream& client, const Status& status) override;

  // ParseAuthority maps a CONNECT authority to a Destination (exposed for tests).
  static Result<Destination> ParseAuthority(std::string_view authority, const Config& config);

 private:
  void OnData(Buffer& data) override;
  void OnEndOfStream() override;
  // Authenticate checks the head's credentials, then completes with `destination`.
  void Authenticate(Destination destination);

  const Config& config_;
  ProxyAuthenticator* authenticator_;
  RequestHeadParser parser_;
  int http_minor_ = 1;
};

}  // namespace deputy
