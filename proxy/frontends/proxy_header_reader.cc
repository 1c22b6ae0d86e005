#include "frontends/proxy_header_reader.h"

#include <algorithm>
#include <string>

#include "base/run_once.h"

namespace deputy {

ProxyHeaderReader::ProxyHeaderReader(EventLoop& loop, uint32_t timeout_ms)
    : timer_(loop,
             [this] {
               Complete(
                   Status(ErrorCode::kProxyProtocol, "PROXY protocol header not complete within " +
                                                         std::to_string(timeout_ms_) + " ms"));
             }),
      timeout_ms_(timeout_ms) {}

ProxyHeaderReader::~ProxyHeaderReader() {
  if (client_ != nullptr && done_ && !client_->closed()) client_->SetCallbacks(nullptr);
}

void ProxyHeaderReader::Start(ByteStream& client, Buffer& rest, Callback done) {
  client_ = &client;
  rest_ = &rest;
  done_ = std::move(done);
  timer_.Start(timeout_ms_);
  client.SetCallbacks(this);
  client.SetReadEnabled(true);
}

void ProxyHeaderReader::OnData(Buffer& data) {
  pending_.MoveFrom(data);
  std::string front(std::min(pending_.size(), kMaxProxyHeaderBytes), '\0');
  pending_.CopyOut(front.data(), front.size());
  ProxyHeader header;
  size_t consumed = 0;
  Status error;
  switch (ParseProxyHeader(front, &header, &consumed, &error)) {
    case ProxyHeaderParse::kNeedMore:
      return;
    case ProxyHeaderParse::kError:
      Complete(Status(ErrorCode::kProxyProtocol, error.message()));
      return;
    case ProxyHeaderParse::kDone:
      pending_.Drain(consumed);
      rest_->MoveFrom(pending_);
      Complete(header);
      return;
  }
}

void ProxyHeaderReader::OnEndOfStream() {
  Complete(Status(ErrorCode::kProxyProtocol,
                  "the connection ended before its PROXY protocol header did"));
}

void ProxyHeaderReader::OnError(const Status& status) {
  Complete(Status(ErrorCode::kProxyProtocol,
                  "the connection failed during its PROXY protocol header: " + status.message()));
}

void ProxyHeaderReader::Complete(Result<ProxyHeader> result) {
  timer_.Stop();
  if (client_ != nullptr && !client_->closed()) {
    client_->SetReadEnabled(false);
    client_->SetCallbacks(nullptr);
  }
  RunOnce(done_, std::move(result));
}

}  // namespace deputy
