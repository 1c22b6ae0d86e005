// deputy resolves on its own loop with c-ares, asking the name servers it is given: answers come
// from a real dnsmasq on loopback, a server that never answers costs a lookup its deadline and
// nothing more, and a lookup given up is never answered.
#include "net/dns_resolver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loop/event_loop.h"
#include "loop/timer.h"
#include "support/dnsmasq_server.h"
#include "support/silent_dns_server.h"
#include "support/temp_dir.h"

namespace deputy {
namespace {

using Clock = std::chrono::steady_clock;
using Answer = Result<std::vector<IpEndpoint>>;

IpEndpoint NameServer(const std::string& address) { return *ParseIpLiteral(address, 53); }

DnsSettings Settings(const std::string& server, uint32_t timeout_ms) {
  DnsSettings settings;
  settings.servers = {NameServer(server)};
  settings.timeout_ms = timeout_ms;
  return settings;
}

// Resolve runs the loop until `host` is answered (or 10 s pass) and returns the answer.
std::optional<Answer> Resolve(EventLoop& loop, DnsResolver& resolver, const std::string& host) {
  std::optional<Answer> answer;
  Timer guard(loop, [&loop] { loop.Stop(); });
  guard.Start(10000);
  auto query = resolver.Resolve(host, 5222, [&](Answer result) {
    answer.emplace(std::move(result));
    loop.Stop();
  });
  loop.Run();
  return answer;
}

std::vector<std::string> Addresses(const Answer& answer) {
  std::vector<std::string> addresses;
  for (const IpEndpoint& endpoint : *answer) addresses.push_back(endpoint.ToString());
  return addresses;
}

TEST(DnsResolverTest, AnswersFromTheConfiguredNameServer) {
  test::TempDir dir;
  test::DnsmasqServer dns(dir, "127.0.0.7 xmpp.example\n::1 xmpp.example\n");
  ASSERT_TRUE(dns.valid()) << dns.error();
  EventLoop loop;
  DnsResolver resolver(loop, Settings(dns.address(), 2000));

  std::optional<Answer> answer = Resolve(loop, resolver, "xmpp.example");
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(answer->ok()) << answer->status().ToString();
  std::vector<std::string> addresses = Addresses(*answer);
  std::sort(addresses.begin(), addresses.end());
  EXPECT_EQ(addresses, (std::vector<std::string>{"127.0.0.7:5222", "[::1]:5222"}));
  EXPECT_EQ(dns.Queries("xmpp.example"), 1u);
}

TEST(DnsResolverTest, ANameTheServerDoesNotKnowFailsAtOnceAsADnsError) {
  test::TempDir dir;
  test::DnsmasqServer dns(dir, "127.0.0.7 xmpp.example\n");
  ASSERT_TRUE(dns.valid()) << dns.error();
  EventLoop loop;
  DnsResolver resolver(loop, Settings(dns.address(), 5000));

  const Clock::time_point start = Clock::now();
  std::optional<Answer> answer = Resolve(loop, resolver, "nowhere.example");
  ASSERT_TRUE(answer.has_value());
  ASSERT_FALSE(answer->ok());
  EXPECT_EQ(answer->status().code(), ErrorCode::kDnsError) << answer->status().ToString();
  EXPECT_NE(answer->status().message().find("nowhere.example"), std::string::npos);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(2500));
}

TEST(DnsResolverTest, ASilentServerCostsTheLookupItsDeadline) {
  test::SilentDnsServer silent;
  ASSERT_TRUE(silent.valid()) << silent.error();
  EventLoop loop;
  DnsResolver resolver(loop, Settings(silent.address(), 300));

  std::optional<Answer> answer = Resolve(loop, resolver, "xmpp.example");
  ASSERT_TRUE(answer.has_value());
  ASSERT_FALSE(answer->ok());
  EXPECT_EQ(answer->status().code(), ErrorCode::kDnsTimeout) << answer->status().ToString();
  EXPECT_GE(silent.queries().value(), 1u);
}

// The thread pool getaddrinfo ran on had 32 threads: 32 names whose server never answers held
// them all. On the loop, 64 such lookups leave the 65th, of a name that answers, as quick as
// ever.
TEST(DnsResolverTest, SixtyFourLookupsStuckOnASilentServerDoNotDelayAnother) {
  test::SilentDnsServer silent;
  ASSERT_TRUE(silent.valid()) << silent.error();
  test::TempDir dir;
  test::DnsmasqServer dns(dir, "127.0.0.7 xmpp.example\n",
                          {"--server=/silent.example/" + silent.address()});
  ASSERT_TRUE(dns.valid()) << dns.error();
  EventLoop loop;
  DnsResolver resolver(loop, Settings(dns.address(), 20000));

  std::vector<std::unique_ptr<DnsQuery>> stuck;
  int stuck_answered = 0;
  for (int i = 0; i < 64; ++i) {
    stuck.push_back(resolver.Resolve("n" + std::to_string(i) + ".silent.example", 443,
                                     [&](Answer) { ++stuck_answered; }));
  }
  const Clock::time_point start = Clock::now();
  std::optional<Answer> answer = Resolve(loop, resolver, "xmpp.example");
  const auto took = Clock::now() - start;
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(answer->ok()) << answer->status().ToString();
  EXPECT_EQ(Addresses(*answer), (std::vector<std::string>{"127.0.0.7:5222"}));
  EXPECT_LT(took, std::chrono::milliseconds(500))
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  EXPECT_EQ(stuck_answered, 0);
  std::printf("a good name took %lld ms beside 64 stuck lookups\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::microseconds>(took).count() / 1000));
}

TEST(DnsResolverTest, ALookupGivenUpIsNeverAnswered) {
  test::TempDir dir;
  test::DnsmasqServer dns(dir, "127.0.0.7 xmpp.example\n127.0.0.8 other.example\n");
  ASSERT_TRUE(dns.valid()) << dns.error();
  EventLoop loop;
  DnsResolver resolver(loop, Settings(dns.address(), 2000));

  bool given_up_answered = false;
  auto given_up = resolver.Resolve("xmpp.example", 443, [&](Answer) { given_up_answered = true; });
  given_up.reset();
  // Asked of the same server after it, this one is answered after it.
  std::optional<Answer> later = Resolve(loop, resolver, "other.example");
  ASSERT_TRUE(later && later->ok());
  EXPECT_EQ(dns.Queries("xmpp.example"), 1u);
  EXPECT_FALSE(given_up_answered);
}

TEST(DnsResolverTest, LiteralsAndStaticHostsNeedNoNameServer) {
  test::SilentDnsServer silent;
  ASSERT_TRUE(silent.valid()) << silent.error();
  EventLoop loop;
  DnsSettings settings = Settings(silent.address(), 2000);
  settings.hosts = {{"pinned.example", {"127.0.0.9"}}};
  DnsResolver resolver(loop, settings);

  std::optional<Answer> pinned = Resolve(loop, resolver, "pinned.example");
  ASSERT_TRUE(pinned && pinned->ok());
  EXPECT_EQ(Addresses(*pinned), (std::vector<std::string>{"127.0.0.9:5222"}));
  std::optional<Answer> literal = Resolve(loop, resolver, "::1");
  ASSERT_TRUE(literal && literal->ok());
  EXPECT_EQ(Addresses(*literal), (std::vector<std::string>{"[::1]:5222"}));
  EXPECT_EQ(silent.queries().value(), 0u);
}

}  // namespace
}  // namespace deputy
