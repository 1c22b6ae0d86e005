#include "frontends/request_frontend.h"

#include "base/run_once.h"

namespace deputy {

RequestFrontend::RequestFrontend(EventLoop& loop, uint32_t timeout_ms, std::string what)
    : loop_(loop),
      timeout_ms_(timeout_ms),
      timer_(loop, [this, timeout_ms, what = std::move(what)] {
        Complete(Status(ErrorCode::kRequestTimeout,
                        what + " not complete within " + std::to_string(timeout_ms) + " ms"));
      }) {
  timer_.Start(timeout_ms);
}

void RequestFrontend::Start(ByteStream& client, const std::optional<IpAddress>& client_ip,
                            Buffer& early_data, ReadyCallback ready) {
  client_ = &client;
  client_ip_ = client_ip;
  early_data_ = &early_data;
  ready_ = std::move(ready);
  client.SetCallbacks(this);
  client.SetReadEnabled(true);
  if (!early_data.empty()) {
    Buffer first;
    first.MoveFrom(early_data);
    OnData(first);
  }
}

void RequestFrontend::Stop() {
  ready_ = nullptr;
  // Stop may run inside the check's own answer, so the check goes on the loop's next turn.
  loop_.DeferDelete(std::move(check_));
  timer_.Stop();
  if (client_ != nullptr && !client_->closed()) client_->SetCallbacks(nullptr);
  client_ = nullptr;
  early_data_ = nullptr;
}

void RequestFrontend::Complete(Result<ClientRequest> result) {
  timer_.Stop();
  RunOnce(ready_, std::move(result));
}

}  // namespace deputy
