#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace deputy {

// How much a LineWriter may hold that its sink has not taken yet.
struct LineQueueLimits {
  size_t max_lines = 8192;
  size_t max_bytes = 4 << 20;
};

// LineWriter hands text lines to a thread of its own that writes them to a descriptor, so the
// thread that logs never waits for the sink (a pipe nobody reads, a slow terminal, a full disk).
// Lines wait in a queue bounded in lines and bytes; a line that does not fit is dropped and
// counted. Each write(2) carries whole lines, at most PIPE_BUF bytes unless one line is longer,
// so lines from several writers sharing one pipe (stdout and stderr as `2>&1`) never interleave.
// Every method is safe to call from any thread.
class LineWriter {
 public:
  // Starts the thread. `fd` is not owned and must stay open while the thread may write to it.
  LineWriter(int fd, LineQueueLimits limits);
  // Closes with a short bound (kDestructorFlush).
  ~LineWriter();
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;

  // Write queues `line` (which should end in '\n') and returns at once. It drops the line
  // instead, and counts it, when the queue is full or the writer is closed.
  void Write(std::string line);

  // StopTaking ends the queue without waiting: the thread writes what is queued and finishes.
  // Calling it on every writer before closing any lets them drain side by side.
  void StopTaking();

  // Close stops taking lines and gives the thread up to `timeout` to write what is queued.
  // Returns true when the thread has finished; false when the sink still blocked it at the
  // deadline: the thread is then left to finish on its own, or to end with the process, and
  // the lines it never gets to write are not counted. Later calls return at once.
  bool Close(std::chrono::milliseconds timeout);

  // Lines dropped so far: queue full, closed, or the sink failed (e.g. EPIPE).
  uint64_t dropped() const { return state_->dropped.load(std::memory_order_relaxed); }
  // Lines the sink took.
  uint64_t written() const { return state_->written.load(std::memory_order_relaxed); }

  static constexpr std::chrono::milliseconds kDestructorFlush{1000};

 private:
  // The thread shares this with the writer; it outlives a LineWriter whose thread was left
  // blocked in write(2).
  struct State {
    int fd;
    LineQueueLimits limits;
    std::mutex mu;
    std::condition_variable wake;      // lines queued, or closed
    std::condition_variable finished;  // the thread is done
    std::deque<std::string> lines;
    size_t bytes = 0;
    bool closed = false;
    bool done = false;
    std::atomic<uint64_t> dropped{0};
    std::atomic<uint64_t> written{0};
  };

  static void Drain(const std::shared_ptr<State>& state);

  std::shared_ptr<State> state_;
  std::thread thread_;
  std::mutex close_mu_;  // serialises Close: one of them joins or detaches the thread
};

}  // namespace deputy
