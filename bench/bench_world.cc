#include "bench/bench_world.h"

#include "support/tls_handlers.h"

namespace deputy::bench {

namespace {

test::KeyPair LeafFor(const test::TestCa& ca, const std::string& name) {
  test::CertOptions options;
  options.dns_names = {name};
  return ca.Issue(options);
}

test::TlsServerOptions EchoOptions(int max_connections) {
  test::TlsServerOptions options;
  options.max_concurrent = max_connections;
  return options;
}

}  // namespace

BenchWorld::BenchWorld(int max_connections)
    : ca_("deputy bench CA"),
      ca_file_(ca_.WriteCertFile(dir_.path())),
      well_known_(LeafFor(ca_, "example.org")),
      echo_(LeafFor(ca_, kUpstreamName), test::Echo(), EchoOptions(max_connections)) {
  nlohmann::json document = nlohmann::json::array(
      {{{"host", kUpstreamName}, {"port", echo_.port()}, {"domain", kUpstreamName}}});
  test::WellKnownServer::Response response;
  response.headers = {{"Content-Type", "application/json"}};
  response.body = document.dump();
  well_known_.Set("/.well-known/service/xmpp-client", response);

  config_ = {
      {"listeners",
       {{{"name", "connect"},
         {"type", "connect"},
         {"address", "127.0.0.1:0"},
         {"max_connections", max_connections}}}},
      {"discovery",
       {{"ca_file", ca_file_},
        {"url_template", "https://{domain}:" + std::to_string(well_known_.port()) +
                             "/.well-known/service/{service}"}}},
      {"upstream", {{"ca_file", ca_file_}}},
      {"dns", {{"hosts", {{"example.org", {"127.0.0.1"}}, {kUpstreamName, {"127.0.0.1"}}}}}},
      {"policy", {{"allowed_networks", {"127.0.0.0/8"}}}},
  };
}

std::unique_ptr<test::DeputyProcess> BenchWorld::StartDeputy(std::string* error,
                                                             unsigned workers) const {
  nlohmann::json config = config_;
  if (workers > 0) config["workers"] = workers;
  auto deputy = std::make_unique<test::DeputyProcess>(std::move(config));
  if (!deputy->Start(error)) {
    *error += "\ndeputy stderr:\n" + deputy->Stderr();
    return nullptr;
  }
  return deputy;
}

}  // namespace deputy::bench
