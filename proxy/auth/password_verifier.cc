#include "auth/password_verifier.h"

#include <crypt.h>
#include <openssl/mem.h>
#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>

namespace deputy {

namespace {

// A job is shared by its check (on the asking loop), the queue, the hashing thread and the
// answer posted back, so whichever lets go last frees it.
struct Job {
  EventLoop* loop = nullptr;
  std::string password;
  std::string hash;
  // Loop thread only: `done` is cleared when the check is given up, and `held` says the loop
  // is still held for this job.
  PasswordVerifier::Callback done;
  bool held = false;
  // Under State::mutex: set when the check is given up, so no answer is posted to a loop that
  // may be gone by then.
  bool abandoned = false;
};

// Matches runs on a hashing thread.
bool Matches(const std::string& password, const std::string& hash) {
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  // A failed crypt_rn returns nullptr; a result of another length cannot match.
  const bool matches = out != nullptr && std::strlen(out) == hash.size() &&
                       CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return matches;
}

void Release(Job& job) {
  if (!job.held) return;
  job.held = false;
  job.loop->Unhold();
}

}  // namespace

struct PasswordVerifier::State {
  mutable std::mutex mutex;
  std::condition_variable wake;
  uint32_t max_running = 0;
  uint32_t max_waiting = 0;
  uint32_t running = 0;
  std::deque<std::shared_ptr<Job>> waiting;
  bool stopping = false;
  PasswordVerifier::CountsCallback on_counts;

  // Under `mutex`, so the counts reported arrive in the order they changed.
  void ReportCountsLocked() const {
    if (on_counts) on_counts(running, waiting.size());
  }
};

namespace {

class PendingCheck : public PasswordCheck {
 public:
  PendingCheck(std::shared_ptr<PasswordVerifier::State> state, std::shared_ptr<Job> job)
      : state_(std::move(state)), job_(std::move(job)) {}
  ~PendingCheck() override {
    job_->done = nullptr;
    Release(*job_);
    std::lock_guard lock(state_->mutex);
    job_->abandoned = true;
    auto it = std::find(state_->waiting.begin(), state_->waiting.end(), job_);
    if (it == state_->waiting.end()) return;
    OPENSSL_cleanse(job_->password.data(), job_->password.size());
    state_->waiting.erase(it);
    state_->ReportCountsLocked();
  }

 private:
  std::shared_ptr<PasswordVerifier::State> state_;
  std::shared_ptr<Job> job_;
};

}  // namespace

namespace {

// Serve is one hashing thread: it takes the oldest waiting job until the verifier stops.
void Serve(const std::shared_ptr<PasswordVerifier::State>& state) {
  std::unique_lock lock(state->mutex);
  for (;;) {
    state->wake.wait(lock, [&] { return state->stopping || !state->waiting.empty(); });
    if (state->stopping) return;
    std::shared_ptr<Job> job = std::move(state->waiting.front());
    state->waiting.pop_front();
    ++state->running;
    state->ReportCountsLocked();
    lock.unlock();
    const bool matches = Matches(job->password, job->hash);
    OPENSSL_cleanse(job->password.data(), job->password.size());
    lock.lock();
    --state->running;
    state->ReportCountsLocked();
    // Posted under the lock, so a check given up after this point is given up on the loop the
    // answer goes to, which then finds `done` cleared; a loop is never posted to once its
    // check is gone.
    if (job->abandoned) continue;
    job->loop->Post([state, job, matches] {
      Release(*job);
      {
        std::lock_guard answer_lock(state->mutex);
        if (state->stopping) return;
      }
      if (!job->done) return;
      PasswordVerifier::Callback done = std::move(job->done);
      done(matches);
    });
  }
}

}  // namespace

PasswordVerifier::PasswordVerifier(uint32_t threads, uint32_t max_waiting, CountsCallback on_counts)
    : state_(std::make_shared<State>()) {
  state_->on_counts = std::move(on_counts);
  state_->max_running = std::max<uint32_t>(threads, 1);
  state_->max_waiting = max_waiting;
  for (uint32_t i = 0; i < state_->max_running; ++i) {
    threads_.emplace_back([state = state_] { Serve(state); });
    pthread_setname_np(threads_.back().native_handle(), "deputy-hash");
  }
}

PasswordVerifier::~PasswordVerifier() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    // Waiting jobs never reach a thread; their checks, if still alive, must not find them.
    for (const std::shared_ptr<Job>& job : state_->waiting) {
      OPENSSL_cleanse(job->password.data(), job->password.size());
    }
    state_->waiting.clear();
  }
  state_->wake.notify_all();
  for (std::thread& thread : threads_) thread.join();
}

std::unique_ptr<PasswordCheck> PasswordVerifier::Verify(EventLoop& loop, std::string password,
                                                        std::string hash, Callback done) {
  auto job = std::make_shared<Job>();
  {
    std::lock_guard lock(state_->mutex);
    // A check a thread is free for does not count against the queue.
    const uint32_t idle = state_->max_running - state_->running;
    if (state_->stopping || state_->waiting.size() >= state_->max_waiting + idle) {
      OPENSSL_cleanse(password.data(), password.size());
      return nullptr;
    }
    job->loop = &loop;
    job->password = std::move(password);
    job->hash = std::move(hash);
    job->done = std::move(done);
    job->held = true;
    state_->waiting.push_back(job);
    state_->ReportCountsLocked();
  }
  loop.Hold();
  state_->wake.notify_one();
  return std::make_unique<PendingCheck>(state_, std::move(job));
}

uint32_t PasswordVerifier::running() const {
  std::lock_guard lock(state_->mutex);
  return state_->running;
}

size_t PasswordVerifier::waiting() const {
  std::lock_guard lock(state_->mutex);
  return state_->waiting.size();
}

}  // namespace deputy
