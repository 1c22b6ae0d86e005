#pragma once

#include <functional>

#include "base/buffer.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "net/byte_stream.h"
#include "net/proxy_header.h"

namespace deputy {

// ProxyHeaderReader reads the PROXY protocol header that a listener with proxy_protocol
// expects before anything of the client's, within a timeout. What follows the header is left
// in `rest` for the frontend. It is Deferrable because its owner learns the outcome inside
// its callback.
class ProxyHeaderReader : public Deferrable, private StreamCallbacks {
 public:
  using Callback = std::function<void(Result<ProxyHeader>)>;

  ProxyHeaderReader(EventLoop& loop, uint32_t timeout_ms);
  ~ProxyHeaderReader() override;

  void Start(ByteStream& client, Buffer& rest, Callback done);

 private:
  void OnData(Buffer& data) override;
  void OnEndOfStream() override;
  void OnWriteDrained() override {}
  void OnError(const Status& status) override;
  void Complete(Result<ProxyHeader> result);

  Timer timer_;
  uint32_t timeout_ms_;
  ByteStream* client_ = nullptr;
  Buffer* rest_ = nullptr;
  Buffer pending_;
  Callback done_;
};

}  // namespace deputy
