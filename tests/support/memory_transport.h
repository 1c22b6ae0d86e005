#pragma once

#include <string>
#include <vector>

#include "base/buffer.h"
#include "base/status.h"
#include "net/byte_stream.h"

namespace deputy::test {

// MemoryTransport is a ByteStream whose "wire" is two Buffers the test moves by hand.
class MemoryTransport : public ByteStream {
 public:
  void SetCallbacks(StreamCallbacks* callbacks) override { callbacks_ = callbacks; }
  void Write(Buffer& data) override { written.MoveFrom(data); }
  size_t BufferedBytes() const override { return 0; }
  size_t UnacknowledgedBytes() const override { return 0; }
  void ShutdownWrite() override { write_shut_down = true; }
  void SetReadEnabled(bool enabled) override { reading = enabled; }
  void Close() override { MarkClosed(); }
  void Reset() override {
    reset = true;
    MarkClosed();
  }
  bool closed() const override { return closed_; }

  // Deliver hands `data` to the stream on top, as a socket read would.
  void Deliver(Buffer& data) {
    if (callbacks_ != nullptr && !closed_) callbacks_->OnData(data);
  }
  void DeliverEnd() {
    if (callbacks_ != nullptr && !closed_) callbacks_->OnEndOfStream();
  }

  Buffer written;
  bool reading = false;
  bool write_shut_down = false;
  bool reset = false;
  // Set as well when the transport closes, for tests that outlive it.
  bool* closed_flag = nullptr;

 private:
  void MarkClosed() {
    closed_ = true;
    if (closed_flag != nullptr) *closed_flag = true;
  }

  StreamCallbacks* callbacks_ = nullptr;
  bool closed_ = false;
};

// Recorder keeps what a stream reports.
class Recorder : public StreamCallbacks {
 public:
  void OnData(Buffer& data) override {
    received += data.ToString();
    data.Clear();
  }
  void OnEndOfStream() override { ++ends; }
  void OnWriteDrained() override {}
  void OnError(const Status& status) override { errors.push_back(status); }

  std::string received;
  int ends = 0;
  std::vector<Status> errors;
};

}  // namespace deputy::test
