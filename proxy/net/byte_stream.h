#pragma once

#include <cstddef>
#include <string>

#include "base/buffer.h"
#include "base/status.h"
#include "loop/event_loop.h"

namespace deputy {

// StreamCallbacks receives what happens on a ByteStream. A callback may close the stream; the
// stream then makes no further calls.
class StreamCallbacks {
 public:
  virtual ~StreamCallbacks() = default;
  // OnData hands over newly read bytes; the callee moves out what it takes.
  virtual void OnData(Buffer& data) = 0;
  // OnEndOfStream: the peer will send nothing more (TCP FIN, or TLS close_notify).
  virtual void OnEndOfStream() = 0;
  // OnWriteDrained: everything written so far has been handed to the kernel.
  virtual void OnWriteDrained() = 0;
  // OnError: the stream failed (reset, TLS failure, truncation); it is closed already and reads
  // and writes nothing more.
  virtual void OnError(const Status& status) = 0;
};

// ByteStream is the one interface for a bidirectional byte pipe, plain TCP or TLS, so the tunnel
// and the frontends do not know which one they hold.
class ByteStream : public Deferrable {
 public:
  virtual void SetCallbacks(StreamCallbacks* callbacks) = 0;
  // Write takes every byte of `data`. Memory is bounded by the caller, who watches
  // BufferedBytes() and pauses its source (see tunnel/).
  virtual void Write(Buffer& data) = 0;
  // BufferedBytes counts bytes accepted by Write but not yet handed to the kernel.
  virtual size_t BufferedBytes() const = 0;
  // UnacknowledgedBytes counts bytes handed to the kernel that the peer has not acknowledged
  // yet; a Reset drops them.
  virtual size_t UnacknowledgedBytes() const = 0;
  // ShutdownWrite ends our sending direction once buffered bytes are out (half-close).
  virtual void ShutdownWrite() = 0;
  virtual void SetReadEnabled(bool enabled) = 0;
  // Close releases the connection at once; no callback runs afterwards.
  virtual void Close() = 0;
  // Reset is Close as an abort: bytes not yet sent are dropped and the peer sees a TCP reset,
  // never an end of stream, so a stream that broke cannot read as complete. For TLS no
  // close_notify is sent.
  virtual void Reset() = 0;
  virtual bool closed() const = 0;
};

}  // namespace deputy
