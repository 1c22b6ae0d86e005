#include "bench/soak_load.h"

#include <thread>

#include "support/slow_clients.h"

namespace deputy::bench {

namespace {

constexpr const char* kTunnelAuthority = "example.org:xmpp-client";
constexpr const char* kBadRequestAuthority = "exa mple.org:xmpp-client";
constexpr const char* kDeniedAuthority = "example.org:not-delegated";
constexpr size_t kKeptErrors = 10;

// TunnelBytes picks a transfer size: mostly small, some medium, a few large, some empty.
size_t TunnelBytes(std::mt19937_64& rng) {
  int kind = std::uniform_int_distribution<int>(0, 99)(rng);
  auto between = [&](size_t low, size_t high) {
    return std::uniform_int_distribution<size_t>(low, high)(rng);
  };
  if (kind < 5) return 0;
  if (kind < 60) return between(1, 4 << 10);
  if (kind < 90) return between(4 << 10, 64 << 10);
  return between(64 << 10, 1 << 20);
}

}  // namespace

MixedLoad::MixedLoad(test::TlsSinkServer& sink, LoadOptions options)
    : sink_(sink), options_(options), rng_(std::random_device{}()) {}

LoadCounts MixedLoad::counts() const {
  return {tunnels_.load(), bytes_.load(), refused_.load(), slow_timed_out_.load(), errors_.load()};
}

std::vector<std::string> MixedLoad::first_errors() const {
  std::lock_guard lock(mu_);
  return first_errors_;
}

void MixedLoad::Error(std::string what) {
  ++errors_;
  std::lock_guard lock(mu_);
  if (first_errors_.size() < kKeptErrors) first_errors_.push_back(std::move(what));
}

void MixedLoad::Run(const test::Deadline& until) {
  std::thread slow([&] { RunSlowClients(until); });
  while (!until.expired()) {
    std::vector<test::TunnelPlan> plans = Batch(options_.concurrency * 2);
    std::vector<test::TunnelOutcome> outcomes =
        test::RunTunnels(options_.port, plans, options_.concurrency, test::Millis(120000));
    Check(plans, outcomes);
  }
  slow.join();
}

std::vector<test::TunnelPlan> MixedLoad::Batch(size_t n) {
  std::vector<test::TunnelPlan> plans(n);
  for (test::TunnelPlan& plan : plans) {
    plan.id = next_id_++;
    int kind = std::uniform_int_distribution<int>(0, 99)(rng_);
    plan.authority = kind < 5    ? kBadRequestAuthority
                     : kind < 10 ? kDeniedAuthority
                                 : kTunnelAuthority;
    plan.payload_bytes = TunnelBytes(rng_);
    plan.reply_bytes = static_cast<uint32_t>(TunnelBytes(rng_));
    plan.order = static_cast<test::CloseOrder>(std::uniform_int_distribution<int>(0, 2)(rng_));
    plan.early_data = std::bernoulli_distribution(0.25)(rng_);
  }
  return plans;
}

void MixedLoad::Check(const std::vector<test::TunnelPlan>& plans,
                      const std::vector<test::TunnelOutcome>& outcomes) {
  size_t expected_records = 0;
  for (const test::TunnelOutcome& outcome : outcomes) expected_records += outcome.status == 200;
  // The sink records a connection when it has closed, which can be after the client is done.
  sink_.WaitForRecords(expected_records, test::Millis(30000));
  std::map<uint64_t, test::SinkRecord> records = sink_.TakeRecords();
  for (size_t i = 0; i < plans.size(); ++i) {
    const test::TunnelPlan& plan = plans[i];
    const test::TunnelOutcome& outcome = outcomes[i];
    std::string who = "tunnel " + std::to_string(plan.id) + " (" + plan.authority + "): ";
    int expected_status = plan.authority == kBadRequestAuthority ? 400
                          : plan.authority == kDeniedAuthority   ? 403
                                                                 : 200;
    if (outcome.status != expected_status || !outcome.error.empty()) {
      Error(who + "status " + std::to_string(outcome.status) + ", " +
            (outcome.error.empty() ? outcome.proxy_status : outcome.error));
      continue;
    }
    if (expected_status != 200) {
      ++refused_;
      continue;
    }
    auto record = records.find(plan.id);
    if (record == records.end()) {
      Error(who + "the sink has no record of it");
      continue;
    }
    const test::SinkRecord& sink = record->second;
    if (!sink.error.empty() || sink.received_sha256 != outcome.sent_sha256 ||
        sink.sent_sha256 != outcome.received_sha256) {
      Error(who + "bytes differ: client sent " + std::to_string(outcome.sent_bytes) + " received " +
            std::to_string(outcome.received_bytes) + "; sink received " +
            std::to_string(sink.received_bytes) + " sent " + std::to_string(sink.sent_bytes) +
            (sink.error.empty() ? "" : ", " + sink.error));
      continue;
    }
    ++tunnels_;
    bytes_ += outcome.sent_bytes + outcome.received_bytes;
  }
  std::vector<std::string> sink_failures = sink_.AnonymousFailures();
  for (size_t i = sink_failures_seen_; i < sink_failures.size(); ++i) {
    Error("sink: " + sink_failures[i]);
  }
  sink_failures_seen_ = sink_failures.size();
}

void MixedLoad::RunSlowClients(const test::Deadline& until) {
  if (options_.slow_clients == 0) return;
  // A head that never ends: deputy must give up on it at its header timeout.
  const std::string endless = "CONNECT example.org:xmpp-client HTTP/1.1\r\nHost: example.org\r\n" +
                              std::string(1 << 16, 'X');
  while (!until.expired()) {
    test::SlowClients slow(options_.port, options_.slow_clients, endless, options_.slow_interval);
    if (slow.connected() < options_.slow_clients) {
      Error("only " + std::to_string(slow.connected()) + " slow clients could connect");
    }
    test::Deadline bound(options_.header_timeout + test::Millis(10000));
    while (!until.expired() && !bound.expired() &&
           !slow.WaitForClosed(slow.connected(), test::Millis(200))) {
    }
    if (slow.open() > 0) {
      if (bound.expired())
        Error(std::to_string(slow.open()) + " slow clients outlived the timeout");
      break;  // the run is over; the destructor closes the rest
    }
    for (const std::string& response : slow.responses()) {
      if (response.starts_with("HTTP/1.1 408 ")) {
        ++slow_timed_out_;
      } else {
        Error("a slow client got " + (response.empty() ? std::string("no response")
                                                       : response.substr(0, response.find('\r'))));
      }
    }
  }
}

}  // namespace deputy::bench
