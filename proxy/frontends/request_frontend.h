#pragma once

#include <memory>
#include <optional>
#include <string>

#include "auth/password_verifier.h"
#include "frontends/frontend.h"
#include "loop/timer.h"

namespace deputy {

// RequestFrontend is what the frontends that read a request from their client share: it
// takes the client's stream over, bounds the request in time, holds a pending credential
// check, and completes once. Bytes already in the early data when Start runs (those that
// came with a PROXY protocol header) are read first, as if just received.
class RequestFrontend : public Frontend, protected StreamCallbacks {
 public:
  void Start(ByteStream& client, const std::optional<IpAddress>& client_ip, Buffer& early_data,
             ReadyCallback ready) final;
  void Stop() final;

 protected:
  // `what` names the request in the timeout's message: "request head", "SOCKS negotiation".
  RequestFrontend(EventLoop& loop, uint32_t timeout_ms, std::string what);

  void Complete(Result<ClientRequest> result);
  // StopTimer ends the time bound once the request is in (a check has a timeout of its own).
  void StopTimer() { timer_.Stop(); }
  // RestartTimer gives the rest of the request a whole timeout again.
  void RestartTimer() { timer_.Start(timeout_ms_); }

  void OnWriteDrained() override {}
  void OnError(const Status& status) override { Complete(status); }

  EventLoop& loop_;
  ByteStream* client_ = nullptr;
  std::optional<IpAddress> client_ip_;
  Buffer* early_data_ = nullptr;
  std::unique_ptr<PasswordCheck> check_;

 private:
  ReadyCallback ready_;
  uint32_t timeout_ms_;
  Timer timer_;
};

}  // namespace deputy
