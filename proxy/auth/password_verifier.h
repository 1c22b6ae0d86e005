#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "loop/event_loop.h"

namespace deputy {

// PasswordCheck is one verification asked for; destroying it, on the loop that asked,
// guarantees its callback never runs (a check already hashing finishes and is discarded).
// Its owner hands it to EventLoop::DeferDelete when the answer may be what is running.
class PasswordCheck : public Deferrable {};

// PasswordVerifier hashes passwords with crypt(3) (libxcrypt) on threads of its own, one per
// check that may run at once: these hashes are slow on purpose, far too slow for an event loop,
// and kept off libuv's pool so they never hold the threads name resolution needs. One verifier
// serves every loop of the process, so its bounds hold for the process: at most `threads`
// checks run, at most `max_waiting` more wait, in order, and beyond that Verify refuses.
class PasswordVerifier {
 public:
  using Callback = std::function<void(bool matches)>;
  // Told the running and waiting counts whenever either changes, from any thread.
  using CountsCallback = std::function<void(uint32_t running, size_t waiting)>;

  PasswordVerifier(uint32_t threads, uint32_t max_waiting, CountsCallback on_counts = nullptr);
  // Joins the threads (a hash under way finishes first); no callback runs after.
  ~PasswordVerifier();
  PasswordVerifier(const PasswordVerifier&) = delete;
  PasswordVerifier& operator=(const PasswordVerifier&) = delete;

  // Verify says, through `done` and on `loop`, whether `password` hashes to `hash` (a crypt(3)
  // hash, whose prefix names the method, cost and salt); nullptr when the queue is full. Called
  // on `loop`'s thread, which Run keeps serving until the answer or the check is gone.
  std::unique_ptr<PasswordCheck> Verify(EventLoop& loop, std::string password, std::string hash,
                                        Callback done);

  uint32_t running() const;
  size_t waiting() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
  std::vector<std::thread> threads_;
};

}  // namespace deputy
