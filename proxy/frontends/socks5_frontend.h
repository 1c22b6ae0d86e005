#pragma once

#include <memory>

#include "auth/proxy_authenticator.h"
#include "config/config.h"
#include "frontends/request_frontend.h"
#include "frontends/socks5_messages.h"

namespace deputy {

// Socks5Frontend speaks SOCKS 5 (RFC 1928), CONNECT only. Without an authenticator it offers
// the no-authentication method; with one, only username/password (RFC 1929), checked like a
// CONNECT listener's Basic credentials. The destination must be a name (deputy needs one to
// look up); its port maps to a service as a CONNECT `domain:port` does. The success reply is
// sent only once the upstream is verified; bytes the client pipelines after its request wait
// in the early data until then.
class Socks5Frontend : public RequestFrontend {
 public:
  Socks5Frontend(EventLoop& loop, const ListenerConfig& listener, const Config& config,
                 ProxyAuthenticator* authenticator);

  void Established(ByteStream& client) override;
  bool Refuse(ByteStream& client, const Status& status) override;

 private:
  enum class Phase { kGreeting, kUserPass, kAuthenticating, kRequest, kDone };

  void OnData(Buffer& data) override;
  void OnEndOfStream() override;

  // Advance reads every whole message pending holds, in order.
  void Advance();
  bool OnGreeting(const socks5::Greeting& greeting);
  void OnUserPass(socks5::UserPass credentials);
  void OnRequest(const socks5::Request& request);
  void Send(const std::string& bytes);

  const Config& config_;
  ProxyAuthenticator* authenticator_;
  Buffer pending_;  // received, not yet read as a message
  Phase phase_ = Phase::kGreeting;
  // What Refuse answers in: nothing before a method is chosen (or 0xff when none was
  // acceptable), a sub-negotiation failure, or a request reply.
  bool no_acceptable_method_ = false;
  // The reply for a request refused for its command or address type, which no ErrorCode says.
  std::optional<socks5::Reply> request_reply_;
  std::string user_;
};

}  // namespace deputy
