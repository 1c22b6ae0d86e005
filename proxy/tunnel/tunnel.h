#pragma once

#include <prometheus/counter.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "base/buffer.h"
#include "base/status.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "net/byte_stream.h"

namespace deputy {

struct TunnelOptions {
  size_t buffer_limit = 64 * 1024;  // per direction
  uint32_t idle_timeout_s = 3600;
  prometheus::Counter* bytes_upstream = nullptr;
  prometheus::Counter* bytes_downstream = nullptr;
};

// Tunnel splices a client stream and an upstream stream. Per direction it keeps at most
// `buffer_limit` bytes queued toward the slower side and stops reading the faster side until
// the queue drains; an end of stream on one side becomes a write shutdown on the other while
// the opposite direction keeps flowing. It finishes when both directions have ended and
// drained, or after idle_timeout_s without traffic (both sides closed), or when one side fails
// (reset, TLS error, truncation): then the other side gets what is already queued for it, for
// at most kFlushBeforeResetMs, and is reset, so its peer sees the break as a break, never as a
// clean end.
class Tunnel {
 public:
  using DoneCallback = std::function<void(const Status&)>;

  // After a failure, how long the other side's queued bytes get to reach its peer, and how
  // often that is checked.
  static constexpr uint64_t kFlushBeforeResetMs = 1000;
  static constexpr uint64_t kFirstFlushPollMs = 5;
  static constexpr uint64_t kMaxFlushPollMs = 100;

  Tunnel(EventLoop& loop, std::unique_ptr<ByteStream> client, std::unique_ptr<ByteStream> upstream,
         TunnelOptions options, DoneCallback done);
  ~Tunnel();
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  // Start forwards `early_data` (client bytes that arrived with its request) and starts both
  // directions. `client_ended`: the client already sent its end of stream (a half-close before
  // the tunnel existed), which is passed on after the early data.
  void Start(Buffer& early_data, bool client_ended = false);

  // Cut ends the tunnel now, resetting both sides, so neither peer mistakes deputy's decision
  // (shutdown) for a clean end of stream. The done callback runs unless it already has.
  void Cut(const Status& status);

  uint64_t bytes_upstream() const { return sides_[kClient].bytes_read; }
  uint64_t bytes_downstream() const { return sides_[kUpstream].bytes_read; }
  // When the first bytes from the upstream arrived, if they have.
  std::optional<std::chrono::steady_clock::time_point> first_downstream_byte() const {
    return first_downstream_byte_;
  }

 private:
  enum SideIndex { kClient = 0, kUpstream = 1 };

  // Side adapts one stream's callbacks to the tunnel, naming which side spoke.
  class Side : public StreamCallbacks {
   public:
    void OnData(Buffer& data) override { tunnel->OnData(index, data); }
    void OnEndOfStream() override { tunnel->OnEndOfStream(index); }
    void OnWriteDrained() override { tunnel->OnWriteDrained(index); }
    void OnError(const Status& status) override { tunnel->OnError(index, status); }

    Tunnel* tunnel = nullptr;
    SideIndex index = kClient;
    std::unique_ptr<ByteStream> stream;
    prometheus::Counter* bytes_counter = nullptr;
    uint64_t bytes_read = 0;
    bool ended = false;   // this side sent its end of stream
    bool paused = false;  // reading stopped because the other side's queue is full
  };

  Side& other(SideIndex index) { return sides_[1 - index]; }
  void OnData(SideIndex from, Buffer& data);
  void OnEndOfStream(SideIndex from);
  void OnWriteDrained(SideIndex side);
  void OnError(SideIndex side, const Status& status);
  void OnIdleCheck();
  void MaybeFinish();
  // Abort starts the end after a failure of the side opposite `survivor`.
  void Abort(SideIndex survivor, Status status);
  // FlushThenReset resets the survivor once its peer has everything queued for it, or at the
  // flush deadline, and finishes.
  void FlushThenReset();
  void Finish(const Status& status);
  bool ending() const { return finished_ || aborting_; }

  Side sides_[2];
  TunnelOptions options_;
  DoneCallback done_;
  Timer idle_timer_;
  Timer flush_timer_;
  std::chrono::steady_clock::time_point last_activity_;
  std::optional<std::chrono::steady_clock::time_point> first_downstream_byte_;
  bool finished_ = false;
  bool aborting_ = false;  // one side failed; the other flushes, then is reset
  SideIndex survivor_ = kClient;
  std::chrono::steady_clock::time_point flush_deadline_;
  uint64_t flush_poll_ms_ = kFirstFlushPollMs;
  Status abort_status_;
};

}  // namespace deputy
