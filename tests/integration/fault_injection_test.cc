// Fault injection: a real deputy driven through thousands of concurrent tunnels that half-close
// in every order, a slowloris crowd, descriptor exhaustion, a DNS server that never answers and
// a well-known server that resets in the middle of its answer. Everything runs on loopback.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "integration/world.h"
#include "support/metric_wait.h"
#include "support/private_resolver.h"
#include "support/process_stats.h"
#include "support/silent_dns_server.h"
#include "support/slow_clients.h"
#include "support/tls_sink_server.h"
#include "support/tunnel_swarm.h"

namespace deputy::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kAuthority = "example.org:xmpp-client";

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// PollUntil re-evaluates `done` every 20 ms until it holds or `timeout` passes; for states only
// /proc or a socket poll can show, which send no event to wait on.
bool PollUntil(const std::function<bool()>& done, Millis timeout) {
  Deadline deadline(timeout);
  while (!done()) {
    if (deadline.expired()) return false;
    std::this_thread::sleep_for(Millis(20));
  }
  return true;
}

// ExpectEcho sends `size` random bytes through an open tunnel to an echo server and expects
// them back unchanged.
void ExpectEcho(int fd, size_t size) {
  std::string data = RandomBytes(size);
  ASSERT_TRUE(SendAll(fd, data));
  Received echoed = RecvExact(fd, size);
  EXPECT_EQ(echoed.end, RecvEnd::kData);
  EXPECT_EQ(Sha256Hex(echoed.data), Sha256Hex(data));
}

// ---- 10,000 tunnels -------------------------------------------------------------------------

constexpr size_t kWaves = 10;
constexpr size_t kTunnelsPerWave = 1000;
constexpr size_t kMaxPayloadBytes = 8 * 1024;

std::vector<TunnelPlan> WavePlans(size_t wave, std::mt19937_64& rng) {
  std::uniform_int_distribution<size_t> size(0, kMaxPayloadBytes);
  std::uniform_int_distribution<int> order(0, 2);
  std::bernoulli_distribution early(0.25);
  std::vector<TunnelPlan> plans(kTunnelsPerWave);
  for (size_t i = 0; i < plans.size(); ++i) {
    TunnelPlan& plan = plans[i];
    plan.id = wave * kTunnelsPerWave + i;
    plan.authority = kAuthority;
    plan.payload_bytes = size(rng);
    plan.reply_bytes = static_cast<uint32_t>(size(rng));
    plan.order = static_cast<CloseOrder>(order(rng));
    plan.early_data = early(rng);
  }
  return plans;
}

TEST(FaultInjection, TenThousandTunnelsHalfClosingInAnyOrderLoseNoByte) {
  // Per tunnel: the client socket and the sink's socket here, two sockets in deputy.
  std::string limit_error;
  ASSERT_TRUE(RaiseOpenFileLimit(2 * kTunnelsPerWave + 512, &limit_error)) << limit_error;
  World world;
  TlsSinkServer sink(world.ca.Issue(CertOptions{{"example.com"}}));
  world.PublishTarget("xmpp-client", sink.port(), {{"Cache-Control", "max-age=3600"}});
  world.config["listeners"][0]["max_connections"] = 4 * kTunnelsPerWave;
  // A thousand handshakes at once queue behind each other on deputy's one thread and the sink's;
  // this test is about bytes, not about how long the last of them waits.
  world.config["upstream"]["connect_timeout_ms"] = 60000;
  world.config["upstream"]["handshake_timeout_ms"] = 60000;
  DeputyProcess& deputy = world.StartDeputy();
  ASSERT_NE(deputy.Port("connect"), 0);

  uint64_t seed = std::random_device{}();
  std::mt19937_64 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::vector<TunnelOutcome> outcomes;
  std::map<CloseOrder, size_t> per_order;
  for (size_t wave = 0; wave < kWaves; ++wave) {
    std::vector<TunnelPlan> plans = WavePlans(wave, rng);
    for (const TunnelPlan& plan : plans) ++per_order[plan.order];
    Clock::time_point start = Clock::now();
    std::vector<TunnelOutcome> done =
        RunTunnels(deputy.Port("connect"), plans, kTunnelsPerWave, Millis(60000));
    std::printf("wave %zu: %zu tunnels in %.0f ms\n", wave, done.size(), MillisSince(start));
    outcomes.insert(outcomes.end(), done.begin(), done.end());
  }
  for (auto [order, count] : per_order) EXPECT_GT(count, 0u) << CloseOrderName(order);

  // The sink records a connection once it has closed, which can be after the client is done.
  EXPECT_TRUE(sink.WaitForRecords(kWaves * kTunnelsPerWave, Millis(30000)))
      << sink.RecordCount() << " sink records";
  std::map<uint64_t, SinkRecord> records = sink.Records();
  size_t failures = 0;
  uint64_t bytes = 0;
  for (const TunnelOutcome& outcome : outcomes) {
    auto record = records.find(outcome.id);
    bool good = outcome.status == 200 && outcome.error.empty() && record != records.end() &&
                record->second.error.empty() &&
                record->second.received_sha256 == outcome.sent_sha256 &&
                record->second.received_bytes == outcome.sent_bytes &&
                record->second.sent_sha256 == outcome.received_sha256 &&
                record->second.sent_bytes == outcome.received_bytes;
    bytes += outcome.sent_bytes + outcome.received_bytes;
    if (good) continue;
    // Explain the first few in full; the count says how many more.
    if (++failures <= 5) {
      ADD_FAILURE() << "tunnel " << outcome.id << ": status " << outcome.status << ", client "
                    << (outcome.error.empty() ? "ok" : outcome.error) << ", sent "
                    << outcome.sent_bytes << " received " << outcome.received_bytes << "; sink "
                    << (record == records.end()
                            ? "has no record"
                            : (record->second.error.empty() ? "ok" : record->second.error) +
                                  ", order " + CloseOrderName(record->second.order) +
                                  ", received " + std::to_string(record->second.received_bytes) +
                                  " sent " + std::to_string(record->second.sent_bytes));
    }
  }
  EXPECT_EQ(failures, 0u) << "of " << outcomes.size() << " tunnels";
  std::vector<std::string> anonymous = sink.AnonymousFailures();
  EXPECT_TRUE(anonymous.empty()) << anonymous.size()
                                 << " sink connections failed, first: " << anonymous.front();
  std::printf("%zu tunnels, %llu bytes checked end to end; deputy used %ld ms of CPU\n",
              outcomes.size(), static_cast<unsigned long long>(bytes), ProcessCpuMs(deputy.pid()));
  // A session is counted once both its sides have closed, which can come after the sink's
  // record and the client's end: wait for the count, then check it is not more.
  const std::string ok_sessions = "deputy_tunnels_total{listener=\"connect\",result=\"ok\"}";
  EXPECT_TRUE(WaitForMetricAtLeast(deputy.Port("admin"), ok_sessions, kWaves * kTunnelsPerWave));
  EXPECT_EQ(ScrapeMetric(deputy.Port("admin"), ok_sessions),
            static_cast<double>(kWaves * kTunnelsPerWave));
  EXPECT_EQ(world.Fetches("xmpp-client"), 1);
}

// ---- slowloris ------------------------------------------------------------------------------

TEST(FaultInjection, SlowlorisCrowdDoesNotDelayALegitimateTunnel) {
  constexpr size_t kSlowClients = 300;
  constexpr int kHeaderTimeoutMs = 4000;
  std::string limit_error;
  ASSERT_TRUE(RaiseOpenFileLimit(2 * kSlowClients + 256, &limit_error)) << limit_error;
  World world;
  auto echo = world.EchoServer({"example.com"});
  world.PublishTarget("xmpp-client", echo->port(), {{"Cache-Control", "max-age=3600"}});
  world.config["listeners"][0]["header_timeout_ms"] = kHeaderTimeoutMs;
  DeputyProcess& deputy = world.StartDeputy();

  // A head that never ends, one byte per connection every 50 ms: deputy sees 6,000 reads a
  // second of unfinished heads until its header timeout.
  std::string endless_head =
      "CONNECT example.org:xmpp-client HTTP/1.1\r\nHost: example.org\r\n" + std::string(4096, 'X');
  SlowClients slow(deputy.Port("connect"), kSlowClients, endless_head, Millis(50));
  ASSERT_EQ(slow.connected(), kSlowClients);
  ASSERT_TRUE(PollUntil([&] { return slow.bytes_sent() >= 10 * kSlowClients; }, Millis(5000)))
      << slow.bytes_sent() << " bytes dripped";

  for (int i = 0; i < 3; ++i) {
    Clock::time_point start = Clock::now();
    World::Opened tunnel = world.OpenTunnel(kAuthority);
    double elapsed_ms = MillisSince(start);
    ASSERT_TRUE(tunnel.head.has_value());
    ASSERT_EQ(tunnel.head->status, 200);
    std::printf("legitimate tunnel %d: 200 after %.1f ms\n", i, elapsed_ms);
    // A bound on deputy's behaviour, not a benchmark: loose enough for a loaded machine.
    EXPECT_LT(elapsed_ms, 1000.0);
    ExpectEcho(tunnel.socket.fd(), 4096);
  }
  // The crowd was still there while the legitimate clients were served...
  EXPECT_EQ(slow.open(), kSlowClients);
  // ...and deputy sends each of them away with 408 once its header timeout passes.
  ASSERT_TRUE(slow.WaitForClosed(kSlowClients, Millis(kHeaderTimeoutMs + 10000)))
      << slow.open() << " slow clients still open";
  size_t timed_out = 0;
  for (const std::string& response : slow.responses()) {
    if (response.starts_with("HTTP/1.1 408 ")) ++timed_out;
  }
  EXPECT_EQ(timed_out, kSlowClients);
}

// ---- descriptor exhaustion ------------------------------------------------------------------

constexpr const char* kPrlimit = "/usr/bin/prlimit";

// ClosedByPeer counts the sockets whose peer has closed or reset them, without blocking.
template <typename Sockets>
size_t ClosedByPeer(const Sockets& sockets) {
  size_t closed = 0;
  for (const Socket& socket : sockets) {
    char byte;
    ssize_t n = recv(socket.fd(), &byte, 1, MSG_DONTWAIT | MSG_PEEK);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) ++closed;
  }
  return closed;
}

// StartUnderPrlimit starts deputy with the open-file limit `nofile` (prlimit(1) syntax) and a
// header timeout long enough for half-sent heads to hold their connections.
void StartUnderPrlimit(World& world, const std::string& nofile) {
  world.config["listeners"][0]["header_timeout_ms"] = 60000;
  world.deputy = std::make_unique<DeputyProcess>(world.config);
  world.deputy->SetLauncher({kPrlimit, "--nofile=" + nofile});
  std::string error;
  ASSERT_TRUE(world.deputy->Start(&error)) << error << "\n" << world.deputy->Stderr();
}

// HalfHeadClients connects `count` clients that send half a CONNECT head and wait: each one
// deputy accepts holds a descriptor there.
std::vector<Socket> HalfHeadClients(uint16_t port, size_t count) {
  std::vector<Socket> clients;
  for (size_t i = 0; i < count; ++i) {
    Socket socket = ConnectTcp(port);
    EXPECT_TRUE(socket.valid());
    SendAll(socket.fd(), "CONNECT example.org:xmpp-client HTTP/1.1\r\n");
    clients.push_back(std::move(socket));
  }
  return clients;
}

// OpenTunnelWithin retries a tunnel through deputy until one carries an echo, for `timeout`.
bool OpenTunnelWithin(World& world, Millis timeout) {
  return PollUntil(
      [&] {
        World::Opened tunnel = world.OpenTunnel(kAuthority);
        if (!tunnel.head.has_value() || tunnel.head->status != 200) return false;
        ExpectEcho(tunnel.socket.fd(), 1024);
        return true;
      },
      timeout);
}

// By default deputy fits its connection limit to its open-file limit, so a crowd of clients is
// turned away at accept while every client it took keeps the descriptors its tunnel needs.
TEST(FaultInjection, ConnectionLimitFitsTheOpenFileLimit) {
  constexpr size_t kHogs = 120;
  if (access(kPrlimit, X_OK) != 0) GTEST_SKIP() << kPrlimit << " (util-linux) is missing";
  World world;
  auto echo = world.EchoServer({"example.com"});
  world.PublishTarget("xmpp-client", echo->port(), {{"Cache-Control", "max-age=3600"}});
  // A soft limit of 64 under a hard one of 256: deputy raises the soft limit and fits to 256.
  ASSERT_NO_FATAL_FAILURE(StartUnderPrlimit(world, "64:256"));
  DeputyProcess& deputy = *world.deputy;
  EXPECT_TRUE(deputy.WaitForStderr("raised the open-file limit from 64 to 256")) << deputy.Stderr();
  std::optional<double> cap = ScrapeMetric(deputy.Port("admin"), "deputy_connections_max");
  ASSERT_TRUE(cap.has_value());
  // Three descriptors a connection, after deputy's own and a headroom of 16.
  EXPECT_GE(*cap, 60);
  EXPECT_LE(*cap, (256 - 16) / 3);
  const size_t max_connections = static_cast<size_t>(*cap);

  std::vector<Socket> hogs = HalfHeadClients(deputy.Port("connect"), kHogs);
  // deputy holds exactly max_connections of them and closes the rest at once.
  ASSERT_TRUE(
      PollUntil([&] { return ClosedByPeer(hogs) == kHogs - max_connections; }, Millis(10000)))
      << ClosedByPeer(hogs) << " clients closed by deputy, expected " << kHogs - max_connections;
  EXPECT_TRUE(
      WaitForMetricAtLeast(deputy.Port("admin"),
                           "deputy_tunnels_total{listener=\"connect\",result=\"connection_limit\"}",
                           static_cast<double>(kHogs - max_connections)));
  EXPECT_LT(ProcessOpenFds(deputy.pid()), 256 - 16) << "the headroom was spent";

  // One client frees its place: the next one gets a tunnel, with descriptors to spare for it.
  auto held = std::find_if(hogs.begin(), hogs.end(), [](const Socket& socket) {
    return ClosedByPeer(std::span(&socket, 1)) == 0;
  });
  ASSERT_NE(held, hogs.end());
  hogs.erase(held);
  EXPECT_TRUE(OpenTunnelWithin(world, Millis(10000))) << deputy.Stderr();
  hogs.clear();
  EXPECT_TRUE(OpenTunnelWithin(world, Millis(10000))) << deputy.Stderr();
  EXPECT_EQ(deputy.Stderr().find("too many open files"), std::string::npos) << deputy.Stderr();
  EXPECT_EQ(deputy.Stop(), 0);
}

// With limits.max_connections set past what the descriptors allow, deputy meets EMFILE itself.
TEST(FaultInjection, AcceptResumesOnceDescriptorsFreeUp) {
#ifdef DEPUTY_SANITIZED
  // UBSan's vptr check is blind without descriptors: the first time it meets a pair of types it
  // probes the vtable through pipe(2), which fails with EMFILE, and it then reports a valid
  // object as having an invalid vptr and aborts (reproduced in ten lines; the runtime's
  // suppressions do not reach that path). The plain build runs this test; the one above, which
  // never exhausts descriptors, runs under the sanitizers too.
  GTEST_SKIP() << "UBSan's vptr check cannot run with the descriptor table full";
#endif
  constexpr int kDeputyFiles = 64;
  constexpr size_t kHogs = 120;  // well past what 64 descriptors can hold
  if (access(kPrlimit, X_OK) != 0) GTEST_SKIP() << kPrlimit << " (util-linux) is missing";
  World world;
  auto echo = world.EchoServer({"example.com"});
  world.PublishTarget("xmpp-client", echo->port(), {{"Cache-Control", "max-age=3600"}});
  world.config["limits"]["max_connections"] = 1000;
  ASSERT_NO_FATAL_FAILURE(StartUnderPrlimit(world, std::to_string(kDeputyFiles)));
  DeputyProcess& deputy = *world.deputy;
  EXPECT_TRUE(deputy.WaitForStderr("limits.max_connections is 1000, but 64 open files leave room"))
      << deputy.Stderr();
  {
    // Fetch and cache the document while descriptors are plentiful.
    World::Opened warm = world.OpenTunnel(kAuthority);
    ASSERT_TRUE(warm.head.has_value());
    ASSERT_EQ(warm.head->status, 200);
    ExpectEcho(warm.socket.fd(), 1024);
  }

  std::vector<Socket> hogs = HalfHeadClients(deputy.Port("connect"), kHogs);
  // deputy cannot accept them all: its table fills up, and it stops accepting for a while,
  // leaving the connections it cannot hold queued in the kernel rather than closing them.
  ASSERT_TRUE(PollUntil(
      [&] {
        return ProcessOpenFds(deputy.pid()) >= kDeputyFiles - 2 &&
               deputy.Stderr().find("pausing accepts") != std::string::npos;
      },
      Millis(10000)))
      << ProcessOpenFds(deputy.pid()) << " descriptors open in deputy\n"
      << deputy.Stderr();
  EXPECT_EQ(ClosedByPeer(hogs), 0u) << "a queued client was closed instead of left waiting";
  std::printf("deputy holds %ld descriptors with %zu clients connecting\n",
              ProcessOpenFds(deputy.pid()), kHogs);

  // Out of descriptors, deputy waits rather than spins: it uses little CPU over a second.
  long cpu_before = ProcessCpuMs(deputy.pid());
  std::this_thread::sleep_for(Millis(1000));  // the measurement window itself
  long cpu_ms = ProcessCpuMs(deputy.pid()) - cpu_before;
  std::printf("deputy CPU while exhausted: %ld ms in 1 s\n", cpu_ms);
  EXPECT_LT(cpu_ms, 500);

  hogs.clear();
  // Once the clients have gone and deputy has closed their sessions, it serves again.
  EXPECT_TRUE(OpenTunnelWithin(world, Millis(10000)))
      << "no tunnel after the descriptors were freed\n"
      << deputy.Stderr();
  EXPECT_FALSE(deputy.WaitForExit(Millis(0)).has_value()) << "deputy exited";
  EXPECT_EQ(deputy.Stop(), 0);
}

// ---- a DNS lookup that never answers --------------------------------------------------------

// PublishSilentTarget makes example.org:xmpp-server delegate to silent.example.com, a name in no
// dns.hosts entry: deputy asks the system resolver, which asks `dns` and, per the resolv.conf
// StartWithSilentDns gives deputy, would wait 30 s for an answer.
void PublishSilentTarget(World& world, uint16_t port) {
  world.Publish(
      "xmpp-server",
      nlohmann::json::array({World::Entry("silent.example.com", port, "example.com")}).dump(),
      {{"Cache-Control", "max-age=3600"}});
}

// StartWithSilentDns starts deputy with `dns` as its only name server, seen only inside
// deputy's private mount namespace.
void StartWithSilentDns(World& world, const SilentDnsServer& dns) {
  world.deputy = std::make_unique<DeputyProcess>(world.config);
  world.deputy->SetLauncher(
      PrivateResolverLauncher(world.dir, dns.address(), "timeout:30 attempts:1"));
  std::string error;
  ASSERT_TRUE(world.deputy->Start(&error)) << error << "\n" << world.deputy->Stderr();
}

TEST(FaultInjection, DnsLookupThatNeverAnswersTimesOutWhileOthersAreServed) {
  constexpr int kDnsTimeoutMs = 1500;
  constexpr int kStuckClients = 6;
  std::string why;
  if (!CanUnshareMounts(&why)) GTEST_SKIP() << why;
  SilentDnsServer dns;
  ASSERT_TRUE(dns.valid()) << dns.error();
  World world;
  auto echo = world.EchoServer({"example.com"});
  world.PublishTarget("xmpp-client", echo->port(), {{"Cache-Control", "max-age=3600"}});
  PublishSilentTarget(world, echo->port());
  world.config["dns"]["timeout_ms"] = kDnsTimeoutMs;
  ASSERT_NO_FATAL_FAILURE(StartWithSilentDns(world, dns));
  DeputyProcess& deputy = *world.deputy;

  struct Stuck {
    std::optional<HttpResponseHead> head;
    double elapsed_ms = 0;
  };
  std::vector<Stuck> stuck(kStuckClients);
  std::vector<std::thread> threads;
  for (Stuck& client : stuck) {
    threads.emplace_back([&] {
      Clock::time_point start = Clock::now();
      client.head = world.OpenTunnel("example.org:xmpp-server").head;
      client.elapsed_ms = MillisSince(start);
    });
  }
  EXPECT_TRUE(dns.queries().WaitFor(1)) << "the lookup never reached the silent server";

  // While those lookups hang, a client whose target needs no system lookup gets its tunnel.
  Clock::time_point start = Clock::now();
  World::Opened tunnel = world.OpenTunnel(kAuthority);
  double elapsed_ms = MillisSince(start);
  ASSERT_TRUE(tunnel.head.has_value());
  EXPECT_EQ(tunnel.head->status, 200);
  EXPECT_LT(elapsed_ms, 1000.0);
  ExpectEcho(tunnel.socket.fd(), 4096);

  for (std::thread& thread : threads) thread.join();
  for (const Stuck& client : stuck) {
    ExpectRefusal(client.head, 504, "dns_timeout");
    EXPECT_GE(client.elapsed_ms, kDnsTimeoutMs - 100);
    EXPECT_LT(client.elapsed_ms, kDnsTimeoutMs + 3000);
  }
  // Answer what is still asked, so that deputy has no query left when it stops.
  dns.Release();
  EXPECT_EQ(deputy.Stop(), 0);
}

// The connect budget covers name resolution too; when resolution is what spends it, the refusal
// says so (dns_timeout naming the budget), not a connect timeout.
TEST(FaultInjection, ConnectBudgetSpentResolvingIsADnsTimeout) {
  constexpr int kBudgetMs = 800;
  std::string why;
  if (!CanUnshareMounts(&why)) GTEST_SKIP() << why;
  SilentDnsServer dns;
  ASSERT_TRUE(dns.valid()) << dns.error();
  World world;
  PublishSilentTarget(world, 9);
  world.config["dns"]["timeout_ms"] = 20000;
  world.config["upstream"]["connect_budget_ms"] = kBudgetMs;
  ASSERT_NO_FATAL_FAILURE(StartWithSilentDns(world, dns));
  Clock::time_point start = Clock::now();
  World::Opened refused = world.OpenTunnel("example.org:xmpp-server");
  double elapsed_ms = MillisSince(start);
  ExpectRefusal(refused.head, 504, "dns_timeout");
  ASSERT_TRUE(refused.head.has_value());
  EXPECT_NE(refused.head->Header("proxy-status")->find("connect budget of 800 ms spent"),
            std::string::npos)
      << *refused.head->Header("proxy-status");
  EXPECT_GE(elapsed_ms, kBudgetMs - 100);
  EXPECT_LT(elapsed_ms, kBudgetMs + 3000);
  dns.Release();
  EXPECT_EQ(world.deputy->Stop(), 0);
}

// ---- a well-known server that resets mid-body -----------------------------------------------

TEST(FaultInjection, WellKnownResetMidBodyIsA502AndIsNotCached) {
  World world;
  auto echo = world.EchoServer({"example.com"});
  std::string body =
      nlohmann::json::array({World::Entry("xmpp.example.com", echo->port(), "example.com")}).dump();
  body.append(2048, ' ');  // JSON allows trailing whitespace; half of it is still incomplete
  // Answers the head and half the body, then resets the TCP connection (no close_notify).
  TlsServer resetting(world.ca.Issue(CertOptions{{"example.org"}}), [&](TlsConnection& conn) {
    std::string request;
    if (!ReadHeadFrom(conn, &request)) return;
    std::string response =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        "Cache-Control: max-age=3600\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, body.size() / 2);
    if (!conn.WriteAll(response)) return;
    linger reset{1, 0};
    setsockopt(conn.fd(), SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    // Returning closes the socket, which SO_LINGER 0 turns into a RST.
  });
  world.config["discovery"]["url_template"] =
      "https://{domain}:" + std::to_string(resetting.port()) + "/.well-known/service/{service}";
  DeputyProcess& deputy = world.StartDeputy();

  for (int attempt = 1; attempt <= 2; ++attempt) {
    World::Opened opened = world.OpenTunnel(kAuthority);
    ExpectRefusal(opened.head, 502, "http_response_incomplete");
    // Nothing was cached: every lookup fetches again.
    EXPECT_EQ(resetting.handshakes().value(), static_cast<uint64_t>(attempt));
  }
  EXPECT_EQ(ScrapeMetric(deputy.Port("admin"), "deputy_delegation_cache_entries"), 0);
  EXPECT_EQ(echo->accepted().value(), 0u);
}

}  // namespace
}  // namespace deputy::test
