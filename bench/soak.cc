// deputy-soak: runs a real deputy on loopback under mixed load for minutes (tunnels of varied
// sizes half-closing in every order, refused requests, a slowloris crowd), samples its RSS and
// descriptor count each second, and prints them as a table, as plots and as a summary. Not a
// test: it judges only that no byte was lost and nothing unexpected happened.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/soak_load.h"
#include "bench/soak_sampler.h"
#include "support/client.h"
#include "support/deputy_process.h"
#include "support/process_stats.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"
#include "support/tls_sink_server.h"
#include "support/well_known_server.h"

namespace deputy::bench {
namespace {

constexpr const char* kUpstreamName = "xmpp.example.com";
// Seconds of idle sampling after the load stops, to see what deputy gives back.
constexpr int kSettleSeconds = 5;

struct Flags {
  int seconds = 600;
  size_t concurrency = 200;
  size_t slow_clients = 50;
  int header_timeout_ms = 5000;
  std::string csv;
};

test::KeyPair LeafFor(const test::TestCa& ca, const std::string& name) {
  test::CertOptions options;
  options.dns_names = {name};
  return ca.Issue(options);
}

// Extremes of one series over the run.
struct Range {
  long start = -1;
  long peak = -1;
  long end = -1;
};

template <typename Field>
Range RangeOf(const std::vector<Sample>& samples, Field field) {
  Range range;
  if (samples.empty()) return range;
  range.start = field(samples.front());
  range.end = field(samples.back());
  for (const Sample& sample : samples) range.peak = std::max(range.peak, field(sample));
  return range;
}

void WriteCsv(const std::string& path, const std::vector<Sample>& samples) {
  std::ofstream out(path);
  out << "seconds,rss_kib,fds,tunnels,bytes,refused,slow_timed_out,errors\n";
  for (const Sample& s : samples) {
    out << s.seconds << ',' << s.rss_kib << ',' << s.fds << ',' << s.load.tunnels << ','
        << s.load.bytes << ',' << s.load.refused << ',' << s.load.slow_timed_out << ','
        << s.load.errors << '\n';
  }
}

// TunnelResults is every deputy_tunnels_total line of deputy's /metrics.
std::string TunnelResults(uint16_t admin_port) {
  std::optional<test::HttpResponse> metrics = test::HttpGet(admin_port, "/metrics");
  if (!metrics) return "  (no /metrics)\n";
  std::string out;
  size_t at = 0;
  while ((at = metrics->body.find("\ndeputy_tunnels_total{", at)) != std::string::npos) {
    size_t end = metrics->body.find('\n', at + 1);
    out += "  " + metrics->body.substr(at + 1, end - at - 1) + "\n";
    at = end;
  }
  return out;
}

int Soak(const Flags& flags) {
  std::string error;
  // Per tunnel: two descriptors here (client and sink) and two in deputy.
  if (!test::RaiseOpenFileLimit(2 * (flags.concurrency + flags.slow_clients) + 512, &error)) {
    std::fprintf(stderr, "deputy-soak: %s\n", error.c_str());
    return 2;
  }
  test::TestCa ca("deputy soak CA");
  test::TempDir dir;
  std::string ca_file = ca.WriteCertFile(dir.path());
  test::WellKnownServer well_known(LeafFor(ca, "example.org"));
  test::TlsSinkServer sink(LeafFor(ca, kUpstreamName));
  test::WellKnownServer::Response document;
  document.headers = {{"Content-Type", "application/json"}, {"Cache-Control", "max-age=3600"}};
  document.body = nlohmann::json::array(
                      {{{"host", kUpstreamName}, {"port", sink.port()}, {"domain", kUpstreamName}}})
                      .dump();
  well_known.Set("/.well-known/service/xmpp-client", document);
  nlohmann::json config = {
      {"listeners",
       {{{"name", "connect"},
         {"type", "connect"},
         {"address", "127.0.0.1:0"},
         {"max_connections", 4096},
         {"header_timeout_ms", flags.header_timeout_ms}}}},
      {"admin", {{"address", "127.0.0.1:0"}}},
      {"discovery",
       {{"ca_file", ca_file},
        {"fallback", "deny"},
        {"url_template", "https://{domain}:" + std::to_string(well_known.port()) +
                             "/.well-known/service/{service}"}}},
      {"upstream", {{"ca_file", ca_file}}},
      {"dns", {{"hosts", {{"example.org", {"127.0.0.1"}}, {kUpstreamName, {"127.0.0.1"}}}}}},
      {"policy", {{"allowed_networks", {"127.0.0.0/8"}}}},
  };
  test::DeputyProcess deputy(config);
  // The access log (a line per session) goes to /dev/null: kept in memory here, a run of minutes
  // would grow this process, and the metrics count the sessions anyway.
  deputy.SetLauncher({"/bin/sh", "-c", "exec \"$@\" >/dev/null", "sh"});
  if (!deputy.Start(&error)) {
    std::fprintf(stderr, "deputy-soak: %s\n%s", error.c_str(), deputy.Stderr().c_str());
    return 1;
  }
  std::fprintf(stderr,
               "deputy-soak: %d s of mixed load (%zu in flight, %zu slow clients) on deputy "
               "pid %d\n",
               flags.seconds, flags.concurrency, flags.slow_clients, deputy.pid());

  LoadOptions options;
  options.port = deputy.Port("connect");
  options.concurrency = flags.concurrency;
  options.slow_clients = flags.slow_clients;
  options.header_timeout = test::Millis(flags.header_timeout_ms);
  MixedLoad load(sink, options);
  Sampler sampler(deputy.pid(), [&] { return load.counts(); });
  sampler.Start();
  load.Run(test::Deadline(test::Millis(1000L * flags.seconds)));
  std::fprintf(stderr, "deputy-soak: load stopped, sampling %d s more\n", kSettleSeconds);
  test::StopEvent().WaitFor(test::Millis(1000 * kSettleSeconds));  // idle on purpose
  sampler.Stop();

  std::vector<Sample> samples = sampler.samples();
  if (!flags.csv.empty()) WriteCsv(flags.csv, samples);
  std::vector<double> rss_mib;
  std::vector<double> fds;
  for (const Sample& s : samples) {
    rss_mib.push_back(static_cast<double>(s.rss_kib) / 1024);
    fds.push_back(static_cast<double>(s.fds));
  }
  std::printf("\n%s\n%s", AsciiPlot("deputy RSS, MiB", rss_mib, 72, 12).c_str(),
              AsciiPlot("deputy open descriptors", fds, 72, 12).c_str());

  Range rss = RangeOf(samples, [](const Sample& s) { return s.rss_kib; });
  Range fd = RangeOf(samples, [](const Sample& s) { return s.fds; });
  LoadCounts counts = load.counts();
  bool alive = !deputy.WaitForExit(test::Millis(0)).has_value();
  std::printf("\nsummary (%zu samples, the last %d s idle)\n", samples.size(), kSettleSeconds);
  std::printf("  RSS KiB      start %8ld  peak %8ld  end %8ld\n", rss.start, rss.peak, rss.end);
  std::printf("  descriptors  start %8ld  peak %8ld  end %8ld\n", fd.start, fd.peak, fd.end);
  std::printf(
      "  tunnels checked %llu (%.1f MiB), refused as expected %llu, slow clients ended "
      "with 408 %llu, errors %llu\n",
      static_cast<unsigned long long>(counts.tunnels),
      static_cast<double>(counts.bytes) / (1 << 20),
      static_cast<unsigned long long>(counts.refused),
      static_cast<unsigned long long>(counts.slow_timed_out),
      static_cast<unsigned long long>(counts.errors));
  std::printf("  deputy %s\n%s", alive ? "still running" : "EXITED",
              alive ? TunnelResults(deputy.Port("admin")).c_str() : "");
  for (const std::string& failure : load.first_errors()) {
    std::printf("  error: %s\n", failure.c_str());
  }
  nlohmann::json line = {{"seconds", flags.seconds},
                         {"rss_kib_start", rss.start},
                         {"rss_kib_peak", rss.peak},
                         {"rss_kib_end", rss.end},
                         {"fds_start", fd.start},
                         {"fds_peak", fd.peak},
                         {"fds_end", fd.end},
                         {"tunnels", counts.tunnels},
                         {"bytes", counts.bytes},
                         {"refused", counts.refused},
                         {"slow_timed_out", counts.slow_timed_out},
                         {"errors", counts.errors},
                         {"deputy_alive", alive}};
  std::printf("%s\n", line.dump().c_str());
  return counts.errors == 0 && alive ? 0 : 1;
}

}  // namespace
}  // namespace deputy::bench

int main(int argc, char** argv) {
  deputy::bench::Flags flags;
  if (const char* seconds = std::getenv("SOAK_SECONDS")) flags.seconds = std::atoi(seconds);
  CLI::App app("deputy-soak: deputy under minutes of mixed load, RSS and descriptors sampled");
  app.add_option("--seconds", flags.seconds, "length of the load (default: $SOAK_SECONDS or 600)")
      ->check(CLI::Range(1, 86400));
  app.add_option("--concurrency", flags.concurrency, "tunnels and refused requests in flight")
      ->check(CLI::Range(1, 4000));
  app.add_option("--slow-clients", flags.slow_clients, "slowloris connections held at once")
      ->check(CLI::Range(0, 4000));
  app.add_option("--header-timeout-ms", flags.header_timeout_ms,
                 "deputy's header_timeout_ms, which ends each slow client")
      ->check(CLI::Range(100, 600000));
  app.add_option("--csv", flags.csv, "also write the samples to this CSV file");
  CLI11_PARSE(app, argc, argv);
  return deputy::bench::Soak(flags);
}
