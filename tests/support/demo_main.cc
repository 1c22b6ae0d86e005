// deputy-demo: a self-contained local world that shows deputy at work without the internet. A
// test CA, an HTTPS server publishing a delegation document for example.org, a TLS echo server
// standing in for xmpp.example.com, deputy itself, and a client whose line makes the round trip.
// Every step is printed; exit status 0 means the round trip worked.

#include <cstdio>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/client.h"
#include "support/deputy_process.h"
#include "support/temp_dir.h"
#include "support/test_pki.h"
#include "support/tls_handlers.h"
#include "support/tls_server.h"
#include "support/well_known_server.h"

namespace deputy::test {
namespace {

constexpr char kService[] = "xmpp-client";
constexpr char kDocumentPath[] = "/.well-known/service/xmpp-client";

void Say(const std::string& text) {
  std::printf("%s\n", text.c_str());
  std::fflush(stdout);
}

bool Fail(const std::string& why) {
  std::printf("FAILED: %s\n", why.c_str());
  std::fflush(stdout);
  return false;
}

// LeafFor is a certificate from `ca` for one DNS name.
KeyPair LeafFor(const TestCa& ca, const std::string& name) {
  CertOptions options;
  options.dns_names = {name};
  return ca.Issue(options);
}

std::string Address(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

// PrintMetrics shows deputy's own metric samples (not the comment lines) from /metrics.
void PrintMetrics(uint16_t admin_port) {
  std::optional<HttpResponse> metrics = HttpGet(admin_port, "/metrics");
  if (!metrics || metrics->head.status != 200) {
    Say("   (could not read /metrics)");
    return;
  }
  std::istringstream lines(metrics->body);
  std::string line;
  int shown = 0;
  while (std::getline(lines, line) && shown < 8) {
    if (!line.starts_with("deputy_") || line.find("_bucket{") != std::string::npos) continue;
    Say("   " + line);
    ++shown;
  }
}

bool RunDemo() {
  TestCa ca("deputy demo CA");
  TempDir dir;
  std::string ca_file = ca.WriteCertFile(dir.path());
  Say("1. test CA created, certificate in " + ca_file);

  WellKnownServer well_known(LeafFor(ca, "example.org"));
  TlsServer echo(LeafFor(ca, "example.com"), Echo());
  nlohmann::json document = nlohmann::json::array(
      {{{"host", "xmpp.example.com"}, {"port", echo.port()}, {"domain", "example.com"}}});
  WellKnownServer::Response response;
  response.headers = {{"Content-Type", "application/json"}};
  response.body = document.dump();
  well_known.Set(kDocumentPath, response);
  Say("2. well-known server on " + Address(well_known.port()) + " serves " + kDocumentPath +
      " for example.org: " + document.dump());
  Say("3. TLS echo server (certificate for example.com) on " + Address(echo.port()));

  nlohmann::json config = {
      {"listeners", {{{"name", "connect"}, {"type", "connect"}, {"address", "127.0.0.1:0"}}}},
      {"admin", {{"address", "127.0.0.1:0"}}},
      {"discovery",
       {{"ca_file", ca_file},
        {"url_template", "https://{domain}:" + std::to_string(well_known.port()) +
                             "/.well-known/service/{service}"}}},
      {"upstream", {{"ca_file", ca_file}}},
      {"dns", {{"hosts", {{"example.org", {"127.0.0.1"}}, {"xmpp.example.com", {"127.0.0.1"}}}}}},
      // The demo's servers are on loopback, which the destination guard prohibits by default.
      {"policy", {{"allowed_networks", {"127.0.0.0/8"}}}}};
  DeputyProcess deputy(config);
  std::string error;
  if (!deputy.Start(&error)) {
    return Fail("deputy did not start: " + error + "\n" + deputy.Stderr());
  }
  Say("4. deputy running (pid " + std::to_string(deputy.pid()) + "): CONNECT on " +
      Address(deputy.Port("connect")) + ", admin on " + Address(deputy.Port("admin")));

  Socket client = ConnectTcp(deputy.Port("connect"));
  if (!client.valid()) return Fail("cannot connect to deputy");
  std::string request = ConnectRequest(std::string("example.org:") + kService);
  if (!SendAll(client.fd(), request)) return Fail("cannot send the CONNECT request");
  Say("5. client sent: CONNECT example.org:" + std::string(kService) + " HTTP/1.1");

  std::optional<HttpResponseHead> head = ReadHttpResponseHead(client.fd(), kDefaultTimeout, &error);
  if (!head) return Fail("no answer from deputy: " + error);
  Say("6. deputy answered: " + head->version + " " + std::to_string(head->status) + " " +
      head->reason + " (after fetching the document " +
      std::to_string(well_known.Requests(kDocumentPath)) + " time(s) and verifying example.com)");
  if (head->status != 200) {
    return Fail("deputy refused: " + head->Header("Proxy-Status").value_or("no Proxy-Status"));
  }

  const std::string line = "hello from a legacy client, over TLS thanks to deputy\n";
  if (!SendAll(client.fd(), line)) return Fail("cannot send through the tunnel");
  Say("7. client sent through the tunnel: " + line.substr(0, line.size() - 1));
  std::string echoed = head->extra;
  if (echoed.size() < line.size()) {
    Received rest = RecvExact(client.fd(), line.size() - echoed.size());
    echoed += rest.data;
  }
  if (echoed != line) return Fail("echo mismatch, got: " + echoed);
  Say("8. echo matched: the line went client -> deputy -> TLS -> echo server and back");

  ShutdownWrite(client.fd());
  Received end = RecvUntilClose(client.fd());
  if (end.end != RecvEnd::kEof || !end.data.empty()) return Fail("tunnel did not close cleanly");
  Say("9. client half-closed; the echo server closed its side; the tunnel ended cleanly");

  if (!deputy.WaitForAccessLogLines(1)) return Fail("no access log line");
  Say("10. deputy's access log line: " + deputy.AccessLog().front().dump());
  Say("11. a few lines of /metrics from the admin port:");
  PrintMetrics(deputy.Port("admin"));

  int status = deputy.Stop();
  Say("12. deputy stopped with SIGTERM, exit status " + std::to_string(status));
  if (status != 0) return Fail("deputy exited with status " + std::to_string(status));
  Say("demo succeeded");
  return true;
}

}  // namespace
}  // namespace deputy::test

int main() {
  try {
    return deputy::test::RunDemo() ? 0 : 1;
  } catch (const std::exception& e) {
    std::printf("FAILED: %s\n", e.what());
    return 1;
  }
}
