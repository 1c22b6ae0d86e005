// deputy-cache-bench: what one delegation cache hit costs, in-process, on real loops. The cache
// is filled by one real fetch from a TLS well-known server on loopback, then each thread (one
// loop each, as workers run) looks the same key up again and again, in batches whose answers
// the loop then delivers. Reported, never asserted (bench/README.md).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "admin/cache_metrics.h"
#include "admin/metrics.h"
#include "delegation/delegation_cache.h"
#include "net/dns_resolver.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"
#include "support/well_known_server.h"
#include "tls/tls_context.h"

namespace deputy {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kPath[] = "/.well-known/service/xmpp-client";
constexpr size_t kBatch = 1000;
using Hosts = std::map<std::string, std::vector<std::string>>;

struct Timing {
  double call_ns = 0;   // Lookup itself: lock, find, counters, allocation
  double total_ns = 0;  // Lookup plus the answer's delivery on the next loop turn
};

// Hits runs `lookups` cache hits on a loop of its own, `kBatch` at a time.
Timing Hits(DelegationCache& cache, const Hosts& hosts, size_t lookups) {
  EventLoop loop;
  DnsResolver resolver(loop, DnsSettings{.hosts = hosts, .timeout_ms = 2000});
  std::vector<std::unique_ptr<DelegationLookup>> pending;
  pending.reserve(kBatch);
  size_t answered = 0;
  size_t misses = 0;
  Clock::duration in_calls{};
  const Clock::time_point start = Clock::now();
  for (size_t done = 0; done < lookups; done += kBatch) {
    const Clock::time_point calls = Clock::now();
    for (size_t i = 0; i < kBatch; ++i) {
      pending.push_back(cache.Lookup(loop, resolver, "example.org", "xmpp-client",
                                     [&](Result<LookupOutcome> outcome) {
                                       ++answered;
                                       if (!outcome.ok() || !outcome->from_cache) ++misses;
                                     }));
    }
    in_calls += Clock::now() - calls;
    loop.Run();
    pending.clear();
  }
  const double total = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  if (answered != lookups || misses != 0) {
    std::fprintf(stderr, "cache-bench: %zu of %zu answered, %zu not from the cache\n", answered,
                 lookups, misses);
    std::exit(1);
  }
  return Timing{std::chrono::duration<double, std::nano>(in_calls).count() / lookups,
                total / lookups};
}

int Main(int argc, char** argv) {
  CLI::App app{"deputy-cache-bench: the cost of a delegation cache hit"};
  size_t lookups = 2'000'000;
  unsigned max_threads = 2;
  app.add_option("--lookups", lookups, "hits per thread")->check(CLI::PositiveNumber);
  app.add_option("--threads", max_threads, "measure 1 to this many threads at once")
      ->check(CLI::Range(1u, 64u));
  CLI11_PARSE(app, argc, argv);
  lookups = std::max(kBatch, lookups / kBatch * kBatch);

  test::TestCa ca;
  test::TempDir dir;
  const std::string ca_file = ca.WriteCertFile(dir.path());
  test::CertOptions leaf;
  leaf.dns_names = {"example.org"};
  test::WellKnownServer server(ca.Issue(leaf));
  test::WellKnownServer::Response document;
  document.headers = {{"Cache-Control", "max-age=86400"}};
  document.body = R"([{"host":"xmpp.example.com","port":5223,"domain":"example.com"}])";
  server.Set(kPath, document);
  auto ctx = TlsClientContext::Create(ca_file, TlsVersion::kTls12, "http/1.1");
  if (!ctx.ok()) {
    std::fprintf(stderr, "cache-bench: %s\n", ctx.status().ToString().c_str());
    return 1;
  }
  DiscoveryConfig config;
  config.url_template =
      "https://{domain}:" + std::to_string(server.port()) + "/.well-known/service/{service}";
  const Hosts hosts{{"example.org", {"127.0.0.1"}}, {"xmpp.example.com", {"127.0.0.1"}}};
  auto loopback = std::make_shared<const DestinationGuard>(
      std::vector<IpNetwork>{ParseIpNetwork("127.0.0.0/8").value()}, std::vector<IpNetwork>{});
  Metrics metrics;
  CacheMetrics observer(metrics);
  DelegationCache cache(
      std::make_shared<const DiscoverySettings>(DiscoverySettings{
          config, loopback, std::make_shared<const TlsClientContext>(std::move(ctx).value()),
          ConnectTimeouts{2000, 2000}, ""}),
      observer);

  {
    // The one fetch that fills the cache.
    EventLoop loop;
    DnsResolver resolver(loop, DnsSettings{.hosts = hosts, .timeout_ms = 2000});
    std::optional<Result<LookupOutcome>> first;
    auto lookup = cache.Lookup(loop, resolver, "example.org", "xmpp-client",
                               [&](Result<LookupOutcome> outcome) { first = std::move(outcome); });
    loop.Run();
    if (!first || !first->ok()) {
      std::fprintf(stderr, "cache-bench: the first fetch failed: %s\n",
                   first ? first->status().ToString().c_str() : "no answer");
      return 1;
    }
  }

  std::printf("%-8s %14s %14s %14s\n", "threads", "lookup ns", "hit+answer ns", "hits/s total");
  for (unsigned threads = 1; threads <= max_threads; ++threads) {
    std::vector<Timing> timings(threads);
    std::vector<std::thread> running;
    for (unsigned t = 0; t < threads; ++t) {
      running.emplace_back([&, t] { timings[t] = Hits(cache, hosts, lookups); });
    }
    for (std::thread& thread : running) thread.join();
    double call = 0;
    double total = 0;
    double rate = 0;
    for (const Timing& timing : timings) {
      call += timing.call_ns / threads;
      total += timing.total_ns / threads;
      rate += 1e9 / timing.total_ns;
    }
    std::printf("%-8u %14.0f %14.0f %14.0f\n", threads, call, total, rate);
  }
  std::printf("fetches: %d (one expected)\n", server.Requests(kPath));
  return 0;
}

}  // namespace
}  // namespace deputy

int main(int argc, char** argv) { return deputy::Main(argc, argv); }
