#include "tunnel/tunnel.h"

#include <algorithm>

#include "base/run_once.h"

namespace deputy {

Tunnel::Tunnel(EventLoop& loop, std::unique_ptr<ByteStream> client,
               std::unique_ptr<ByteStream> upstream, TunnelOptions options, DoneCallback done)
    : options_(options),
      done_(std::move(done)),
      idle_timer_(loop, [this] { OnIdleCheck(); }),
      flush_timer_(loop, [this] { FlushThenReset(); }) {
  sides_[kClient].stream = std::move(client);
  sides_[kClient].bytes_counter = options.bytes_upstream;
  sides_[kUpstream].stream = std::move(upstream);
  sides_[kUpstream].bytes_counter = options.bytes_downstream;
  for (int i = 0; i < 2; ++i) {
    sides_[i].tunnel = this;
    sides_[i].index = static_cast<SideIndex>(i);
    sides_[i].stream->SetCallbacks(&sides_[i]);
  }
}

Tunnel::~Tunnel() {
  for (Side& side : sides_) {
    side.stream->SetCallbacks(nullptr);
    side.stream->Close();
  }
}

void Tunnel::Start(Buffer& early_data, bool client_ended) {
  last_activity_ = std::chrono::steady_clock::now();
  idle_timer_.Start(uint64_t{options_.idle_timeout_s} * 1000);
  if (!early_data.empty()) OnData(kClient, early_data);
  if (ending()) return;
  if (client_ended) {
    OnEndOfStream(kClient);
    if (ending()) return;
  }
  for (Side& side : sides_) {
    if (!side.paused) side.stream->SetReadEnabled(true);
  }
}

void Tunnel::OnData(SideIndex from, Buffer& data) {
  if (ending()) {
    data.Clear();
    return;
  }
  Side& source = sides_[from];
  Side& sink = other(from);
  last_activity_ = std::chrono::steady_clock::now();
  source.bytes_read += data.size();
  if (from == kUpstream && !first_downstream_byte_) first_downstream_byte_ = last_activity_;
  if (source.bytes_counter != nullptr) source.bytes_counter->Increment(data.size());
  sink.stream->Write(data);
  if (ending()) return;
  if (sink.stream->BufferedBytes() >= options_.buffer_limit && !source.paused) {
    source.paused = true;
    source.stream->SetReadEnabled(false);
  }
}

void Tunnel::OnWriteDrained(SideIndex side) {
  if (aborting_) {
    if (side == survivor_) FlushThenReset();
    return;
  }
  Side& source = other(side);
  if (source.paused && !source.ended) {
    source.paused = false;
    source.stream->SetReadEnabled(true);
  }
  MaybeFinish();
}

void Tunnel::OnEndOfStream(SideIndex from) {
  if (ending()) return;
  sides_[from].ended = true;
  other(from).stream->ShutdownWrite();
  MaybeFinish();
}

void Tunnel::OnError(SideIndex side, const Status& status) {
  if (aborting_) {
    // The survivor failed while flushing: nothing is left to deliver or reset.
    Finish(abort_status_);
    return;
  }
  const char* who = side == kClient ? "client" : "upstream";
  Abort(other(side).index, Status(status.code(), std::string(who) + " " + status.message()));
}

void Tunnel::Abort(SideIndex survivor, Status status) {
  if (ending()) return;
  aborting_ = true;
  survivor_ = survivor;
  abort_status_ = std::move(status);
  idle_timer_.Stop();
  // Bytes read before the failure are still delivered; nothing more is read.
  sides_[survivor].stream->SetReadEnabled(false);
  flush_deadline_ =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kFlushBeforeResetMs);
  FlushThenReset();
}

void Tunnel::FlushThenReset() {
  if (finished_) return;
  ByteStream& stream = *sides_[survivor_].stream;
  // A reset drops what the kernel still holds, so wait until the peer has acknowledged it all.
  bool delivered =
      stream.closed() || (stream.BufferedBytes() == 0 && stream.UnacknowledgedBytes() == 0);
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      flush_deadline_ - std::chrono::steady_clock::now());
  if (delivered || left.count() <= 0) {
    stream.Reset();
    Finish(abort_status_);
    return;
  }
  uint64_t wait_ms = static_cast<uint64_t>(left.count());
  if (stream.BufferedBytes() == 0) {
    // Everything is with the kernel; acknowledgements raise no event, so look again, less often
    // each time, so that many tunnels failing at once do not flood the loop.
    wait_ms = std::min(wait_ms, flush_poll_ms_);
    flush_poll_ms_ = std::min(flush_poll_ms_ * 2, kMaxFlushPollMs);
  }
  // While bytes are still queued, OnWriteDrained looks again; the timer is only the deadline.
  flush_timer_.Start(wait_ms);
}

void Tunnel::Cut(const Status& status) {
  if (finished_) return;
  for (Side& side : sides_) side.stream->Reset();
  // A cut during the flush after a failure keeps that failure as the result.
  Finish(aborting_ ? abort_status_ : status);
}

void Tunnel::OnIdleCheck() {
  auto idle_for = std::chrono::steady_clock::now() - last_activity_;
  auto limit = std::chrono::seconds(options_.idle_timeout_s);
  if (idle_for >= limit) {
    // Neither peer ended the stream, and bytes may be stuck toward one that stopped reading: a
    // clean end would tell each that the other finished, so both are reset.
    Cut(Status(ErrorCode::kIdleTimeout,
               "no traffic for " + std::to_string(options_.idle_timeout_s) + " s"));
    return;
  }
  auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(limit - idle_for);
  idle_timer_.Start(static_cast<uint64_t>(remaining.count()) + 1);
}

void Tunnel::MaybeFinish() {
  if (ending()) return;
  for (Side& side : sides_) {
    if (!side.ended || side.stream->BufferedBytes() != 0) return;
  }
  Finish(Status::Ok());
}

void Tunnel::Finish(const Status& status) {
  if (finished_) return;
  finished_ = true;
  idle_timer_.Stop();
  flush_timer_.Stop();
  for (Side& side : sides_) side.stream->Close();
  RunOnce(done_, status);
}

}  // namespace deputy
