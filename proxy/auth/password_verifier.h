#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "loop/event_loop.h"

namespace deputy {

// PasswordCheck is one verification asked for; destroying it guarantees its callback never
// runs (a check already on a worker thread finishes there and is discarded). Its owner hands
// it to EventLoop::DeferDelete when the answer may be what is running.
class PasswordCheck : public Deferrable {};

// PasswordVerifier hashes passwords with crypt(3) (libxcrypt) on libuv's thread pool: these
// hashes are slow on purpose, far too slow for the event loop. At most `max_running` checks
// occupy pool threads at once, so name resolution (getaddrinfo, on the same pool) always keeps
// threads; at most `max_waiting` more wait, in order, and beyond that Verify refuses.
class PasswordVerifier {
 public:
  using Callback = std::function<void(bool matches)>;
  // Told the running and waiting counts whenever either changes.
  using CountsCallback = std::function<void(uint32_t running, size_t waiting)>;

  PasswordVerifier(EventLoop& loop, uint32_t max_running, uint32_t max_waiting,
                   CountsCallback on_counts = nullptr);
  ~PasswordVerifier();
  PasswordVerifier(const PasswordVerifier&) = delete;
  PasswordVerifier& operator=(const PasswordVerifier&) = delete;

  // Verify says, through `done` and from the loop, whether `password` hashes to `hash` (a
  // crypt(3) hash, whose prefix names the method, cost and salt); nullptr when the queue is
  // full.
  std::unique_ptr<PasswordCheck> Verify(std::string password, std::string hash, Callback done);

  uint32_t running() const;
  size_t waiting() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace deputy
