#include "auth/password_verifier.h"

#include <crypt.h>
#include <openssl/mem.h>
#include <uv.h>

#include <algorithm>
#include <cstring>
#include <deque>

namespace deputy {

namespace {

class PendingCheck;

// A job outlives its check when the check is destroyed while a pool thread hashes; the job
// then finds check == nullptr and only frees itself. It holds the verifier's state, so it may
// also outlive the verifier.
struct Job {
  uv_work_t work{};
  std::shared_ptr<PasswordVerifier::State> state;
  std::string password;
  std::string hash;
  bool matches = false;
  PasswordVerifier::Callback done;
  PendingCheck* check = nullptr;
};

// Matches runs on a pool thread.
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

}  // namespace

struct PasswordVerifier::State {
  uv_loop_t* loop = nullptr;
  uint32_t max_running = 0;
  uint32_t max_waiting = 0;
  uint32_t running = 0;
  std::deque<Job*> waiting;
  bool alive = true;
  PasswordVerifier::CountsCallback on_counts;

  void StartWaiting();
  void ReportCounts() const {
    if (alive && on_counts) on_counts(running, waiting.size());
  }
};

namespace {

class PendingCheck : public PasswordCheck {
 public:
  explicit PendingCheck(Job* job) : job_(job) {}
  ~PendingCheck() override {
    if (job_ == nullptr) return;
    std::deque<Job*>& waiting = job_->state->waiting;
    auto it = std::find(waiting.begin(), waiting.end(), job_);
    if (it != waiting.end()) {
      waiting.erase(it);
      OPENSSL_cleanse(job_->password.data(), job_->password.size());
      std::shared_ptr<PasswordVerifier::State> state = job_->state;
      delete job_;
      state->ReportCounts();
      return;
    }
    job_->check = nullptr;
    job_->done = nullptr;
  }

  void Forget() { job_ = nullptr; }

 private:
  Job* job_;
};

void AfterWork(uv_work_t* work, int status) {
  auto* job = static_cast<Job*>(work->data);
  std::unique_ptr<Job> owned(job);
  std::shared_ptr<PasswordVerifier::State> state = std::move(job->state);
  --state->running;
  if (job->check != nullptr) job->check->Forget();
  PasswordVerifier::Callback done = std::move(job->done);
  const bool matches = status == 0 && job->matches;
  owned.reset();
  // A verifier that is gone has no one left to answer.
  if (!state->alive) return;
  state->StartWaiting();
  state->ReportCounts();
  if (done) done(matches);
}

}  // namespace

void PasswordVerifier::State::StartWaiting() {
  while (running < max_running && !waiting.empty()) {
    Job* job = waiting.front();
    waiting.pop_front();
    ++running;
    job->work.data = job;
    const int rc = uv_queue_work(
        loop, &job->work,
        [](uv_work_t* work) {
          auto* job = static_cast<Job*>(work->data);
          job->matches = Matches(job->password, job->hash);
          OPENSSL_cleanse(job->password.data(), job->password.size());
        },
        AfterWork);
    if (rc != 0) AfterWork(&job->work, rc);
  }
}

PasswordVerifier::PasswordVerifier(EventLoop& loop, uint32_t max_running, uint32_t max_waiting,
                                   CountsCallback on_counts)
    : state_(std::make_shared<State>()) {
  state_->loop = loop.get();
  state_->on_counts = std::move(on_counts);
  state_->max_running = std::max<uint32_t>(max_running, 1);
  state_->max_waiting = max_waiting;
}

PasswordVerifier::~PasswordVerifier() {
  state_->alive = false;
  // Waiting jobs never reach a thread; their checks, if still alive, must not find them.
  for (Job* job : state_->waiting) {
    if (job->check != nullptr) job->check->Forget();
    OPENSSL_cleanse(job->password.data(), job->password.size());
    delete job;
  }
  state_->waiting.clear();
}

std::unique_ptr<PasswordCheck> PasswordVerifier::Verify(std::string password, std::string hash,
                                                        Callback done) {
  // A check that would start at once does not count against the queue.
  if (state_->running >= state_->max_running && state_->waiting.size() >= state_->max_waiting) {
    OPENSSL_cleanse(password.data(), password.size());
    return nullptr;
  }
  auto* job = new Job;
  job->state = state_;
  job->password = std::move(password);
  job->hash = std::move(hash);
  job->done = std::move(done);
  auto check = std::make_unique<PendingCheck>(job);
  job->check = check.get();
  state_->waiting.push_back(job);
  state_->StartWaiting();
  state_->ReportCounts();
  return check;
}

uint32_t PasswordVerifier::running() const { return state_->running; }
size_t PasswordVerifier::waiting() const { return state_->waiting.size(); }

}  // namespace deputy
