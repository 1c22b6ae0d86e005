// deputy's memory follows the bytes it holds, not the number of pieces they arrived in: a peer
// that sends one byte per TLS record (or per TCP segment) toward a side that does not read must
// not make deputy pin a whole buffer slice per byte.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>

#include "integration/world.h"
#include "support/metric_wait.h"
#include "support/trickle.h"

namespace deputy::test {
namespace {

constexpr size_t kRecords = 30000;
// Long enough apart that deputy reads each piece on its own, which is the hostile case.
constexpr std::chrono::microseconds kGap{20};
constexpr long kMaxGrowthKiB = 16 * 1024;
constexpr Millis kTrickleTimeout{120000};

class SmallRecordMemoryTest : public ::testing::Test {
 protected:
  World world_;
};

TEST_F(SmallRecordMemoryTest, OneByteUpstreamRecordsToAClientThatDoesNotReadHoldLittleMemory) {
  // Linux grows the send buffer toward the client with its congestion window, to hundreds of
  // KiB: a lead of 1 MiB fills the kernel's buffers, so the records after it wait in deputy.
  // Room for all of it, so deputy reads every record and holds it.
  std::string lead = RandomBytes(1 << 20);
  world_.config["upstream"]["buffer_bytes"] = 4 << 20;
  Counter sent;
  TlsServer upstream(world_.ca.Issue(CertOptions{{"example.com"}}),
                     TrickleRecords(lead, kRecords, kGap, &sent));
  world_.PublishTarget("xmpp-client", upstream.port());
  SmallAsanQuarantine small_quarantine;
  DeputyProcess& deputy = world_.StartDeputy();

  Socket client = ConnectTcpWithSmallWindow(deputy.Port("connect"));
  ASSERT_TRUE(client.valid());
  ASSERT_TRUE(SendAll(client.fd(), ConnectRequest("example.org:xmpp-client")));
  std::optional<HttpResponseHead> head = ReadHttpResponseHead(client.fd());
  ASSERT_TRUE(head.has_value());
  ASSERT_EQ(head->status, 200);
  long baseline_kib = deputy.RssKiB();
  ASSERT_TRUE(SendAll(client.fd(), "g"));  // the upstream starts sending on this byte

  ASSERT_TRUE(sent.WaitFor(kRecords, kTrickleTimeout)) << sent.value() << " records sent";
  // Every record has been read by deputy and now waits for the client.
  ASSERT_TRUE(WaitForMetricAtLeast(deputy.Port("admin"),
                                   "deputy_bytes_total{direction=\"downstream\"}",
                                   static_cast<double>(lead.size() + kRecords)));
  long held_kib = deputy.RssKiB();
  RecordProperty("rss_growth_kib", std::to_string(held_kib - baseline_kib));
  EXPECT_LT(held_kib - baseline_kib, kMaxGrowthKiB)
      << "baseline " << baseline_kib << " KiB, holding " << kRecords << " records " << held_kib
      << " KiB";

  // Nothing was lost or reordered on the way.
  std::string expected = lead + TrickleData(kRecords);
  Received rest = RecvExact(client.fd(), expected.size() - head->extra.size(), Millis(60000));
  EXPECT_TRUE(head->extra + rest.data == expected) << rest.data.size() << " bytes received";
}

TEST_F(SmallRecordMemoryTest, OneByteClientWritesToAnUpstreamThatDoesNotReadHoldLittleMemory) {
  // Room for every record's ciphertext, so deputy reads all the client sends and holds it.
  world_.config["upstream"]["buffer_bytes"] = 1 << 20;
  StopEvent release;
  Counter checked;
  std::atomic<bool> intact{false};
  TlsServer upstream(world_.ca.Issue(CertOptions{{"example.com"}}), [&](TlsConnection& conn) {
    // Read nothing until the test has measured; Pause ends early when the server stops.
    while (!release.fired()) {
      if (!conn.Pause(Millis(5))) return;
    }
    std::string got(kRecords, '\0');
    intact = conn.ReadExact(got.data(), got.size(), Millis(30000)) && got == TrickleData(kRecords);
    checked.Add();
  });
  // The kernel must not absorb the records deputy sends: they are to wait in deputy.
  ASSERT_TRUE(ShrinkListenerWindow(upstream.port()));
  world_.PublishTarget("xmpp-client", upstream.port());
  SmallAsanQuarantine small_quarantine;
  DeputyProcess& deputy = world_.StartDeputy();
  auto tunnel = world_.OpenTunnel("example.org:xmpp-client");
  ASSERT_TRUE(tunnel.head.has_value());
  ASSERT_EQ(tunnel.head->status, 200);
  long baseline_kib = deputy.RssKiB();

  ASSERT_TRUE(TrickleWrites(tunnel.socket.fd(), kRecords, kGap, kTrickleTimeout));
  // Every byte has been read by deputy and now waits, as TLS records, for the upstream.
  ASSERT_TRUE(WaitForMetricAtLeast(deputy.Port("admin"),
                                   "deputy_bytes_total{direction=\"upstream\"}", kRecords));
  long held_kib = deputy.RssKiB();
  RecordProperty("rss_growth_kib", std::to_string(held_kib - baseline_kib));
  EXPECT_LT(held_kib - baseline_kib, kMaxGrowthKiB)
      << "baseline " << baseline_kib << " KiB, holding " << kRecords << " records " << held_kib
      << " KiB";

  release.Fire();
  ASSERT_TRUE(checked.WaitFor(1, Millis(60000)));
  EXPECT_TRUE(intact);
}

}  // namespace
}  // namespace deputy::test
