#pragma once

#include "frontends/frontend.h"
#include "loop/timer.h"

namespace deputy {

// FixedFrontend serves a listener bound to one domain and service: the client speaks the
// service's protocol from the first byte, and a refusal simply closes the connection.
class FixedFrontend : public Frontend {
 public:
  FixedFrontend(EventLoop& loop, Destination destination);

  void Start(ByteStream& client, const std::optional<IpAddress>& client_ip, Buffer& early_data,
             ReadyCallback ready) override;
  void Established(ByteStream&) override {}
  bool Refuse(ByteStream&, const Status&) override { return false; }
  void Stop() override { ready_ = nullptr; }

 private:
  Destination destination_;
  ReadyCallback ready_;
  Timer deliver_;
};

}  // namespace deputy
