#pragma once

#include <memory>

#include "config/config.h"
#include "frontends/frontend.h"
#include "http/request_head_parser.h"
#include "loop/timer.h"

namespace deputy {

// ConnectFrontend reads an HTTP/1.x CONNECT request whose authority is `domain:service` or
// `domain:port`, answers 200 only once the upstream is verified, and otherwise an error status
// with a Proxy-Status header (RFC 9209) and a one-line body.
class ConnectFrontend : public Frontend, private StreamCallbacks {
 public:
  ConnectFrontend(EventLoop& loop, const ListenerConfig& listener, const Config& config);

  void Start(ByteStream& client, Buffer& early_data, ReadyCallback ready) override;
  void Established(ByteStream& client) override;
  bool Refuse(ByteStream& client, const Status& status) override;
  void Stop() override;

  // ParseAuthority maps a CONNECT authority to a Destination (exposed for tests).
  static Result<Destination> ParseAuthority(std::string_view authority, const Config& config);

 private:
  void OnData(Buffer& data) override;
  void OnEndOfStream() override;
  void OnWriteDrained() override {}
  void OnError(const Status& status) override;
  void Complete(Result<Destination> result);

  const Config& config_;
  RequestHeadParser parser_;
  Timer header_timer_;
  ByteStream* client_ = nullptr;
  Buffer* early_data_ = nullptr;
  ReadyCallback ready_;
  int http_minor_ = 1;
};

}  // namespace deputy
