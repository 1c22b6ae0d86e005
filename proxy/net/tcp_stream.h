#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "base/buffer.h"
#include "loop/event_loop.h"
#include "loop/uv_handle.h"
#include "net/address.h"
#include "net/byte_stream.h"

namespace deputy {

// TcpStream is a ByteStream over a libuv TCP handle. Reads go straight into Buffer slices;
// writes hand whole slices to uv_write, at most one request in flight.
class TcpStream : public ByteStream {
 public:
  using ConnectCallback = std::function<void(const Status&)>;

  // Wraps an accepted connection.
  explicit TcpStream(UvHandle<uv_tcp_t> accepted);
  // Creates an unconnected stream; call Connect.
  explicit TcpStream(EventLoop& loop);
  ~TcpStream() override;

  // Connect starts a connection to `endpoint`; `done` runs once, unless the stream is closed
  // first. Reading starts after a successful connect only once SetReadEnabled(true) is called.
  void Connect(const IpEndpoint& endpoint, ConnectCallback done);

  std::optional<IpEndpoint> peer() const;

  void SetCallbacks(StreamCallbacks* callbacks) override { callbacks_ = callbacks; }
  void Write(Buffer& data) override;
  size_t BufferedBytes() const override { return pending_.size() + in_flight_bytes_; }
  size_t UnacknowledgedBytes() const override;
  void ShutdownWrite() override;
  void SetReadEnabled(bool enabled) override;
  void Close() override;
  void Reset() override;
  bool closed() const override { return !handle_; }

 private:
  struct WriteRequest;

  void StartWrite();
  void OnWriteDone(int status);
  void StartShutdown();
  void OnRead(ssize_t nread);
  // PendingSocketError is the socket's SO_ERROR (an errno value), 0 if none.
  int PendingSocketError() const;
  void Fail(const Status& status);

  UvHandle<uv_tcp_t> handle_;
  StreamCallbacks* callbacks_ = nullptr;
  ConnectCallback connect_done_;
  Buffer read_buffer_;
  Buffer pending_;
  size_t in_flight_bytes_ = 0;
  bool reading_ = false;
  bool eof_received_ = false;
  bool shutdown_requested_ = false;
  bool shutdown_started_ = false;
};

}  // namespace deputy
