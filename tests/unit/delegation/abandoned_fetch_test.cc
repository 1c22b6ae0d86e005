// A well-known fetch nobody waits for any more is cancelled at once, and fetches in flight are
// bounded. Real loop, real TLS well-known server on loopback, the cache in-process.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "delegation/delegation_cache.h"
#include "loop/timer.h"
#include "net/dns_resolver.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"
#include "support/well_known_server.h"
#include "tls/tls_context.h"

namespace deputy {
namespace {

using test::Millis;

constexpr char kPrefix[] = "/.well-known/service/";

class RecordingObserver : public CacheObserver {
 public:
  void OnLookup(LookupResult result) override { ++lookups[result]; }
  void OnFetch(std::string_view status) override { ++fetches[std::string(status)]; }
  void OnFetchDuration(double) override {}
  void OnFetchesInFlight(size_t n) override { in_flight = n; }
  void OnSize(size_t, size_t) override {}
  void OnEviction(EvictionReason) override {}

  std::map<LookupResult, int> lookups;
  std::map<std::string, int> fetches;
  size_t in_flight = 0;
};

class AbandonedFetchTest : public ::testing::Test {
 protected:
  AbandonedFetchTest()
      : ca_file_(ca_.WriteCertFile(dir_.path())),
        server_(ca_.Issue(test::CertOptions{{"example.org", "example.net"}})),
        resolver_(loop_, DnsSettings{.hosts = {{"example.org", {"127.0.0.1"}},
                                               {"example.net", {"127.0.0.1"}}},
                                     .timeout_ms = 2000}) {}

  void SetUp() override {
    auto ctx = TlsClientContext::Create(ca_file_, TlsVersion::kTls12, "http/1.1");
    ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
    ctx_ = std::make_shared<const TlsClientContext>(std::move(ctx).value());
  }

  void MakeCache(uint32_t max_inflight_fetches = 256) {
    DiscoveryConfig config;
    config.ca_file = ca_file_;
    config.url_template =
        "https://{domain}:" + std::to_string(server_.port()) + kPrefix + "{service}";
    config.timeout_ms = 30000;  // far beyond every wait below: only cancellation ends a fetch
    config.max_inflight_fetches = max_inflight_fetches;
    cache_ = std::make_unique<DelegationCache>(
        std::make_shared<const DiscoverySettings>(
            DiscoverySettings{config, loopback_allowed_, ctx_, ConnectTimeouts{2000, 2000}, ""}),
        observer_);
  }

  std::unique_ptr<DelegationLookup> Lookup(const std::string& domain, const std::string& service,
                                           DelegationCache::Callback done) {
    return cache_->Lookup(loop_, resolver_, domain, service, std::move(done));
  }

  void Serve(const std::string& service, test::WellKnownServer::Response response) {
    server_.Set(kPrefix + service, std::move(response));
  }

  // RunUntil turns the loop until `done` holds or `timeout` passes; a short timer keeps the
  // loop waking up to look at state other threads change.
  template <typename Pred>
  bool RunUntil(Pred done, Millis timeout = Millis(5000)) {
    test::Deadline deadline(timeout);
    Timer tick(loop_, [] {});
    while (!done()) {
      if (deadline.expired()) return false;
      tick.Start(5);
      uv_run(loop_.get(), UV_RUN_ONCE);
    }
    return true;
  }

  bool RequestSeen(const std::string& service, int n = 1) {
    return RunUntil([&] { return server_.Requests(kPrefix + service) >= n; });
  }

  test::TestCa ca_;
  test::TempDir dir_;
  std::string ca_file_;
  test::WellKnownServer server_;
  EventLoop loop_;
  DnsResolver resolver_;
  std::shared_ptr<const DestinationGuard> loopback_allowed_ =
      std::make_shared<const DestinationGuard>(
          std::vector<IpNetwork>{ParseIpNetwork("127.0.0.0/8").value()}, std::vector<IpNetwork>{});
  std::shared_ptr<const TlsClientContext> ctx_;
  RecordingObserver observer_;
  std::unique_ptr<DelegationCache> cache_;
};

TEST_F(AbandonedFetchTest, FetchWhoseOnlyWaiterLeavesClosesItsConnectionAtOnce) {
  Serve("xmpp-client", {.never_answer = true});
  MakeCache();
  bool answered = false;
  auto lookup =
      Lookup("example.org", "xmpp-client", [&](Result<LookupOutcome>) { answered = true; });
  ASSERT_TRUE(RequestSeen("xmpp-client"));
  ASSERT_EQ(cache_->fetches_in_flight(), 1u);
  lookup.reset();
  EXPECT_EQ(cache_->fetches_in_flight(), 0u);
  EXPECT_TRUE(RunUntil([&] { return server_.closed_while_silent().value() >= 1; }, Millis(2000)))
      << "the well-known server still holds an open connection nobody waits on";
  EXPECT_FALSE(answered);
  EXPECT_EQ(observer_.fetches["cancelled"], 1);
  EXPECT_EQ(observer_.in_flight, 0u);
}

TEST_F(AbandonedFetchTest, FetchWithAWaiterLeftRunsToItsAnswer) {
  Serve("xmpp-client", {.status = 404, .delay_ms = 200});
  MakeCache();
  std::optional<Result<LookupOutcome>> second;
  auto first = Lookup("example.org", "xmpp-client", [](Result<LookupOutcome>) {});
  auto remaining = Lookup("example.org", "xmpp-client",
                          [&](Result<LookupOutcome> outcome) { second = outcome; });
  ASSERT_TRUE(RequestSeen("xmpp-client"));
  first.reset();
  ASSERT_TRUE(RunUntil([&] { return second.has_value(); }));
  ASSERT_TRUE(second->ok()) << second->status().ToString();
  EXPECT_EQ((*second)->delegation->kind, Delegation::Kind::kNotDelegated);
  EXPECT_EQ(observer_.fetches["cancelled"], 0);
  EXPECT_EQ(observer_.fetches["404"], 1);
}

TEST_F(AbandonedFetchTest, AnswerCallbackDestroyingTheOtherWaitersCancelsNothing) {
  Serve("xmpp-client", {.status = 404});
  MakeCache();
  std::vector<std::unique_ptr<DelegationLookup>> lookups;
  int answers = 0;
  for (int i = 0; i < 3; ++i) {
    lookups.push_back(Lookup("example.org", "xmpp-client", [&](Result<LookupOutcome>) {
      ++answers;
      lookups.clear();  // the other waiters (and this one) go while answers are handed out
    }));
  }
  ASSERT_TRUE(RunUntil([&] { return answers > 0; }));
  EXPECT_EQ(answers, 1);
  EXPECT_EQ(observer_.fetches["404"], 1);
  EXPECT_EQ(observer_.fetches["cancelled"], 0);
  EXPECT_EQ(cache_->fetches_in_flight(), 0u);
}

TEST_F(AbandonedFetchTest, WaiterLeavingInsideAnotherFlightsCallbackCancelsItsOwnFetch) {
  Serve("xmpp-client", {.status = 404, .delay_ms = 200});
  Serve("imap", {.never_answer = true});
  MakeCache();
  std::unique_ptr<DelegationLookup> silent =
      Lookup("example.net", "imap", [](Result<LookupOutcome>) {});
  bool answered = false;
  auto lookup = Lookup("example.org", "xmpp-client", [&](Result<LookupOutcome>) {
    answered = true;
    silent.reset();
  });
  ASSERT_TRUE(RequestSeen("imap"));
  ASSERT_TRUE(RunUntil([&] { return answered; }));
  EXPECT_TRUE(RunUntil([&] { return server_.closed_while_silent().value() >= 1; }, Millis(2000)));
  EXPECT_EQ(observer_.fetches["cancelled"], 1);
  EXPECT_EQ(cache_->fetches_in_flight(), 0u);
}

TEST_F(AbandonedFetchTest, NewKeyBeyondTheInflightLimitIsRefusedFromTheLoop) {
  for (const char* service : {"a", "b", "c"}) Serve(service, {.never_answer = true});
  MakeCache(2);
  auto noop = [](Result<LookupOutcome>) {};
  auto a = Lookup("example.org", "a", noop);
  auto b = Lookup("example.org", "b", noop);
  std::optional<Result<LookupOutcome>> refused;
  auto c = Lookup("example.org", "c", [&](Result<LookupOutcome> outcome) { refused = outcome; });
  EXPECT_FALSE(refused.has_value()) << "answered inside Lookup";
  ASSERT_TRUE(RunUntil([&] { return refused.has_value(); }));
  ASSERT_FALSE(refused->ok());
  EXPECT_EQ(refused->status().code(), ErrorCode::kLookupLimit);
  EXPECT_EQ(refused->status().message(),
            "too many lookups in flight (discovery.max_inflight_fetches = 2)");
  EXPECT_EQ(observer_.lookups[LookupResult::kLimit], 1);

  // Joining a running fetch is not refused, and a cancelled fetch frees its place.
  std::optional<Result<LookupOutcome>> joined;
  auto a2 = Lookup("example.org", "a", [&](Result<LookupOutcome> outcome) { joined = outcome; });
  b.reset();
  auto c2 = Lookup("example.org", "c", noop);
  ASSERT_TRUE(RequestSeen("c"));
  EXPECT_FALSE(joined.has_value());
  EXPECT_EQ(observer_.lookups[LookupResult::kLimit], 1);
  EXPECT_EQ(cache_->fetches_in_flight(), 2u);
}

}  // namespace
}  // namespace deputy
