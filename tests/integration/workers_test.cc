// With several workers, deputy is still one proxy: one delegation cache whose single flight
// spans every worker, metrics that count every worker's sessions, and a drain that waits for
// each worker's tunnels. Connections spread over the workers by SO_REUSEPORT.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "integration/world.h"
#include "support/client.h"
#include "support/metric_wait.h"
#include "support/socket.h"
#include "support/tls_sink_server.h"
#include "support/tunnel_swarm.h"

namespace deputy::test {
namespace {

constexpr int kWorkers = 2;
constexpr int kDrainTunnels = 40;

// SessionsPerWorker counts the access log's sessions by the worker that served them.
std::map<int, size_t> SessionsPerWorker(const DeputyProcess& deputy) {
  std::map<int, size_t> per_worker;
  for (const nlohmann::json& line : deputy.AccessLog()) ++per_worker[line.value("worker", -1)];
  return per_worker;
}

// BindSharing tries to bind 127.0.0.1:`port` with SO_REUSEPORT, as a second process would to
// share deputy's port; returns 0 or the errno.
int BindSharing(uint16_t port) {
  UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int on = 1;
  setsockopt(socket.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ::bind(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0
             ? 0
             : errno;
}

TEST(WorkersTest, AThousandColdLookupsOverEveryWorkerCauseOneFetch) {
  constexpr size_t kTunnels = 1000;
  World world;
  TlsSinkServer sink(world.ca.Issue(CertOptions{{"example.com"}}));
  // Slow enough that every client asks while the one fetch is under way.
  WellKnownServer::Response document;
  document.headers = {{"Cache-Control", "max-age=3600"}};
  document.body =
      nlohmann::json::array({World::Entry("xmpp.example.com", sink.port(), "example.com")}).dump();
  document.delay_ms = 500;
  world.PublishResponse("xmpp-client", document);
  world.config["workers"] = kWorkers;
  world.config["listeners"][0]["max_connections"] = 4 * kTunnels;
  // A thousand handshakes at once queue behind each other; this test is about the lookup.
  world.config["upstream"]["connect_timeout_ms"] = 60000;
  world.config["upstream"]["handshake_timeout_ms"] = 60000;
  DeputyProcess& deputy = world.StartDeputy();

  std::vector<TunnelPlan> plans(kTunnels);
  for (size_t i = 0; i < kTunnels; ++i) {
    plans[i].id = i;
    plans[i].authority = "example.org:xmpp-client";
    plans[i].payload_bytes = 512;
    plans[i].reply_bytes = 512;
  }
  std::vector<TunnelOutcome> outcomes =
      RunTunnels(deputy.Port("connect"), plans, kTunnels, Millis(60000));
  size_t ok = 0;
  for (const TunnelOutcome& outcome : outcomes) {
    if (outcome.status == 200 && outcome.error.empty()) {
      ++ok;
    } else if (kTunnels - ok <= 3) {
      ADD_FAILURE() << "tunnel " << outcome.id << ": status " << outcome.status << ", "
                    << outcome.error << " " << outcome.proxy_status;
    }
  }
  EXPECT_EQ(ok, kTunnels);
  EXPECT_EQ(world.Fetches("xmpp-client"), 1);
  // The one fetch answered many waiters (misses), not one waiter and then the cache (hits): the
  // clients connect well within the fetch's 500 ms, over both workers.
  const uint16_t admin = deputy.Port("admin");
  const double misses =
      ScrapeMetric(admin, "deputy_delegation_lookups_total{result=\"miss\"}").value_or(-1);
  const double hits =
      ScrapeMetric(admin, "deputy_delegation_lookups_total{result=\"hit\"}").value_or(-1);
  EXPECT_EQ(misses + hits, static_cast<double>(kTunnels));
  EXPECT_GE(misses, 100) << misses << " lookups waited on the fetch, " << hits << " hit the cache";
  std::printf("%.0f lookups waited on the one fetch, %.0f hit the cache\n", misses, hits);

  ASSERT_TRUE(deputy.WaitForAccessLogLines(kTunnels, Millis(30000)));
  std::map<int, size_t> per_worker = SessionsPerWorker(deputy);
  ASSERT_EQ(per_worker.size(), static_cast<size_t>(kWorkers)) << "sessions all on one worker";
  for (const auto& [worker, sessions] : per_worker) {
    EXPECT_GE(worker, 0);
    EXPECT_LT(worker, kWorkers);
    std::printf("worker %d served %zu of %zu sessions\n", worker, sessions, kTunnels);
  }
  // One family per metric, fed by every worker.
  EXPECT_EQ(ScrapeMetric(deputy.Port("admin"),
                         "deputy_tunnels_total{listener=\"connect\",result=\"ok\"}"),
            static_cast<double>(kTunnels));
  EXPECT_EQ(ScrapeMetric(deputy.Port("admin"), "deputy_connections_total{listener=\"connect\"}"),
            static_cast<double>(kTunnels));
  EXPECT_EQ(ScrapeMetric(deputy.Port("admin"), "deputy_connections_active{listener=\"connect\"}"),
            0);
  EXPECT_EQ(deputy.Stop(), 0);
}

// StartWithTunnels starts deputy on kWorkers workers and opens kDrainTunnels tunnels through it
// (on one worker only with odds of 2 in 2^40), to a target at `port`.
DeputyProcess& StartWithTunnels(World& world, uint16_t port, std::vector<World::Opened>* tunnels) {
  world.PublishTarget("xmpp-client", port, {{"Cache-Control", "max-age=3600"}});
  world.config["workers"] = kWorkers;
  DeputyProcess& deputy = world.StartDeputy();
  for (int i = 0; i < kDrainTunnels; ++i) {
    tunnels->push_back(world.OpenTunnel("example.org:xmpp-client"));
    EXPECT_TRUE(tunnels->back().head.has_value());
    if (tunnels->back().head) EXPECT_EQ(tunnels->back().head->status, 200);
  }
  return deputy;
}

TEST(WorkersTest, SigtermDrainsTheTunnelsOfEveryWorker) {
  std::vector<World::Opened> tunnels;
  World world;
  auto echo = world.EchoServer({"example.com"});
  DeputyProcess& deputy = StartWithTunnels(world, echo->port(), &tunnels);
  ASSERT_EQ(kill(deputy.pid(), SIGTERM), 0);
  ASSERT_TRUE(deputy.WaitForStderr("shutting down"));
  // Every worker's socket closes: a late client gets no tunnel.
  world.ExpectNoNewTunnel();
  for (World::Opened& tunnel : tunnels) World::ExpectTunnelEndsCleanly(tunnel);
  // The last session of the last worker gone, deputy exits by itself.
  EXPECT_EQ(deputy.WaitForExit(Millis(10000)), 0);
  std::map<int, size_t> per_worker = SessionsPerWorker(deputy);
  EXPECT_EQ(per_worker.size(), static_cast<size_t>(kWorkers));
  size_t ok = 0;
  for (const nlohmann::json& line : deputy.AccessLog()) ok += line["result"] == "ok";
  EXPECT_EQ(ok, static_cast<size_t>(kDrainTunnels));
}

TEST(WorkersTest, TheDrainDeadlineCutsTheTunnelsOfEveryWorker) {
  std::vector<World::Opened> tunnels;
  World world;
  auto echo = world.EchoServer({"example.com"});
  DeputyProcess& deputy = StartWithTunnels(world, echo->port(), &tunnels);
  ASSERT_EQ(kill(deputy.pid(), SIGTERM), 0);
  // The tunnels stay open past the drain deadline (5 s), so every worker cuts its own.
  for (World::Opened& tunnel : tunnels) {
    EXPECT_EQ(RecvUntilClose(tunnel.socket.fd(), Millis(15000)).end, RecvEnd::kReset);
  }
  EXPECT_EQ(deputy.WaitForExit(Millis(10000)), 0);
  ASSERT_TRUE(deputy.WaitForStderr("drain deadline reached"));
  std::map<int, size_t> per_worker = SessionsPerWorker(deputy);
  EXPECT_EQ(per_worker.size(), static_cast<size_t>(kWorkers));
  for (const nlohmann::json& line : deputy.AccessLog()) {
    EXPECT_EQ(line["result"], "connection_terminated");
  }
}

// ConnectFrom connects to 127.0.0.1:`port` from 127.0.0.1:`from`.
Socket ConnectFrom(uint16_t from, uint16_t port) {
  Socket socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(from);
  if (::bind(socket.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return Socket();
  }
  address.sin_port = htons(port);
  if (::connect(socket.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return Socket();
  }
  return socket;
}

// SourcePortPerWorker finds a client port that SO_REUSEPORT hands to each worker. A client from
// the same address and port reaches the same worker for as long as the workers' sockets stay,
// so each probe asks for something deputy refuses at once, learns its worker from the access
// log, and resets, so that no TIME_WAIT keeps the port from being used again. The ports are
// below the kernel's ephemeral range (32768 up), so no other connection is given one meanwhile.
std::map<int, uint16_t> SourcePortPerWorker(DeputyProcess& deputy, size_t probes) {
  const uint16_t port = deputy.Port("connect");
  uint16_t from = static_cast<uint16_t>(20000 + getpid() % 10000);
  size_t probed = 0;
  for (size_t tries = 0; probed < probes && tries < 4 * probes; ++tries, ++from) {
    Socket probe = ConnectFrom(from, port);
    if (!probe.valid()) continue;  // the port is someone else's
    EXPECT_TRUE(SendAll(probe.fd(), "GET / HTTP/1.1\r\nHost: example.org\r\n\r\n"));
    EXPECT_TRUE(ReadHttpResponseHead(probe.fd()).has_value());
    probe.CloseWithReset();
    ++probed;
  }
  EXPECT_TRUE(deputy.WaitForAccessLogLines(probed));
  std::map<int, uint16_t> ports;
  for (const nlohmann::json& line : deputy.AccessLog()) {
    const std::string client = line.value("client", "");
    ports[line.value("worker", -1)] =
        static_cast<uint16_t>(std::stoi(client.substr(client.rfind(':') + 1)));
  }
  return ports;
}

// Draining, a worker whose own clients have all gone still runs the fetch that another worker's
// client waits on, rather than fail that client as it stops.
TEST(WorkersTest, ADrainingWorkerFinishesTheFetchAnotherWorkersClientWaitsOn) {
  constexpr size_t kProbes = 24;
  World world;
  auto echo = world.EchoServer({"example.com"});
  WellKnownServer::Response document;
  document.body =
      nlohmann::json::array({World::Entry("xmpp.example.com", echo->port(), "example.com")}).dump();
  document.held = true;
  world.PublishResponse("xmpp-client", document);
  world.config["workers"] = kWorkers;
  DeputyProcess& deputy = world.StartDeputy();
  std::map<int, uint16_t> ports = SourcePortPerWorker(deputy, kProbes);
  ASSERT_TRUE(ports.contains(0) && ports.contains(1)) << "every probe reached one worker";
  const size_t probes_logged = deputy.AccessLog().size();

  // The client of worker 0 starts the fetch; worker 1's client joins it.
  const uint16_t port = deputy.Port("connect");
  Socket starter = ConnectFrom(ports[0], port);
  ASSERT_TRUE(starter.valid());
  ASSERT_TRUE(SendAll(starter.fd(), ConnectRequest("example.org:xmpp-client")));
  ASSERT_TRUE(
      world.well_known->WaitForRequests(World::kWellKnownPrefix + std::string("xmpp-client"), 1));
  Socket joiner = ConnectFrom(ports[1], port);
  ASSERT_TRUE(joiner.valid());
  ASSERT_TRUE(SendAll(joiner.fd(), ConnectRequest("example.org:xmpp-client") + "ping"));
  ASSERT_TRUE(WaitForMetricAtLeast(
      deputy.Port("admin"), "deputy_sessions_active{listener=\"connect\",phase=\"lookup\"}", 2));

  // Worker 0 drains and its client leaves, while worker 1's client waits on worker 0's fetch.
  // Worker 0 has logged that session before it reads the document, so the answer comes after.
  ASSERT_EQ(kill(deputy.pid(), SIGTERM), 0);
  ASSERT_TRUE(deputy.WaitForStderr("shutting down"));
  starter.Close();
  ASSERT_TRUE(deputy.WaitForAccessLogLines(probes_logged + 1));
  world.well_known->Release();
  std::optional<HttpResponseHead> head = ReadHttpResponseHead(joiner.fd());
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200) << head->reason << " " << head->Header("Proxy-Status").value_or("");
  std::string echoed = head->extra;
  if (echoed.size() < 4) echoed += RecvExact(joiner.fd(), 4 - echoed.size()).data;
  EXPECT_EQ(echoed, "ping");
  joiner.Close();
  EXPECT_EQ(deputy.WaitForExit(Millis(10000)), 0);
  EXPECT_EQ(world.Fetches("xmpp-client"), 1);
}

// With one worker the port stays deputy's alone; with several, their sockets share it, which
// another program of the same user could join (docs/architecture.md).
TEST(WorkersTest, OneWorkerKeepsItsPortExclusive) {
  World world;
  auto echo = world.EchoServer({"example.com"});
  world.PublishTarget("xmpp-client", echo->port());
  world.config["workers"] = 1;
  DeputyProcess& deputy = world.StartDeputy();
  EXPECT_EQ(BindSharing(deputy.Port("connect")), EADDRINUSE);
  world.ExpectTunnel("example.org:xmpp-client");
  EXPECT_EQ(deputy.Stop(), 0);
  EXPECT_EQ(SessionsPerWorker(deputy), (std::map<int, size_t>{{0, 1}}));
}

TEST(WorkersTest, SeveralWorkersShareThePort) {
  World world;
  world.config["workers"] = kWorkers;
  DeputyProcess& deputy = world.StartDeputy();
  EXPECT_EQ(BindSharing(deputy.Port("connect")), 0);
}

}  // namespace
}  // namespace deputy::test
