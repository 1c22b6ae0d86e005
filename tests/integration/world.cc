#include "integration/world.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace deputy::test {

namespace {

const std::vector<std::string> kTestDomains = {
    "example.org",        "example.net",       "example.com",   "xmpp.example.com",
    "backup.example.com", "other.example.com", "cache.example", "many.example"};

}  // namespace

World::World() {
  ca_file = ca.WriteCertFile(dir.path());
  well_known = std::make_unique<WellKnownServer>(ca.Issue(CertOptions{
      {"example.org", "example.net", "cache.example", "many.example", "*.many.example"}}));
  nlohmann::json hosts = nlohmann::json::object();
  for (const std::string& name : kTestDomains) hosts[name] = {"127.0.0.1"};
  config = {
      {"listeners", {{{"name", "connect"}, {"type", "connect"}, {"address", "127.0.0.1:0"}}}},
      {"admin", {{"address", "127.0.0.1:0"}}},
      {"discovery",
       {{"ca_file", ca_file},
        {"url_template", "https://{domain}:" + std::to_string(well_known->port()) +
                             "/.well-known/service/{service}"},
        {"timeout_ms", 3000},
        {"min_ttl_s", 0}}},
      {"upstream",
       {{"ca_file", ca_file}, {"connect_timeout_ms", 2000}, {"handshake_timeout_ms", 2000}}},
      {"dns", {{"hosts", hosts}}},
      // Every test peer is on loopback, which the destination guard prohibits by default.
      {"policy", {{"allowed_networks", {"127.0.0.0/8", "::1/128"}}}},
  };
}

void World::PublishTarget(const std::string& service, uint16_t port, HeaderList headers) {
  Publish(service, nlohmann::json::array({Entry("xmpp.example.com", port, "example.com")}).dump(),
          std::move(headers));
}

void World::Publish(const std::string& service, const std::string& body, HeaderList headers) {
  WellKnownServer::Response response;
  response.body = body;
  response.headers = std::move(headers);
  response.headers.emplace_back("Content-Type", "application/json");
  PublishResponse(service, std::move(response));
}

void World::PublishResponse(const std::string& service, WellKnownServer::Response response) {
  well_known->Set(kWellKnownPrefix + service, std::move(response));
}

nlohmann::json World::Entry(const std::string& host, uint16_t port, const std::string& domain) {
  return {{"host", host}, {"port", port}, {"domain", domain}};
}

DeputyProcess& World::StartDeputy() {
  deputy = std::make_unique<DeputyProcess>(config);
  std::string error;
  EXPECT_TRUE(deputy->Start(&error)) << error << "\nstderr:\n" << deputy->Stderr();
  return *deputy;
}

World::Opened World::OpenTunnel(const std::string& authority, const std::string& early_data) {
  Opened opened;
  opened.socket = ConnectTcp(deputy->Port("connect"));
  if (!opened.socket.valid()) return opened;
  if (!SendAll(opened.socket.fd(), ConnectRequest(authority) + early_data)) return opened;
  std::string error;
  opened.head = ReadHttpResponseHead(opened.socket.fd(), kDefaultTimeout, &error);
  return opened;
}

std::unique_ptr<TlsServer> World::EchoServer(std::vector<std::string> names) {
  return std::make_unique<TlsServer>(ca.Issue(CertOptions{std::move(names)}), Echo());
}

SmallAsanQuarantine::SmallAsanQuarantine() {
  if (const char* options = std::getenv("ASAN_OPTIONS")) saved_ = options;
  setenv("ASAN_OPTIONS", (saved_.value_or("") + ":quarantine_size_mb=1").c_str(), 1);
}

SmallAsanQuarantine::~SmallAsanQuarantine() {
  if (saved_) {
    setenv("ASAN_OPTIONS", saved_->c_str(), 1);
  } else {
    unsetenv("ASAN_OPTIONS");
  }
}

void World::ExpectTunnel(const std::string& authority) {
  Opened opened = OpenTunnel(authority, "ping");
  ASSERT_TRUE(opened.head.has_value()) << "no response head for " << authority;
  ASSERT_EQ(opened.head->status, 200) << opened.head->Header("proxy-status").value_or("");
  std::string got = opened.head->extra;
  if (got.size() < 4) got += RecvExact(opened.socket.fd(), 4 - got.size()).data;
  EXPECT_EQ(got, "ping");
}

void World::ExpectNoNewTunnel() {
  Socket late = ConnectTcp(deputy->Port("connect"), Millis(2000));
  if (!late.valid()) return;
  SendAll(late.fd(), ConnectRequest("example.org:xmpp-client"));
  EXPECT_FALSE(ReadHttpResponseHead(late.fd(), Millis(5000)).has_value());
}

void World::ExpectTunnelEndsCleanly(Opened& opened) {
  ASSERT_TRUE(SendAll(opened.socket.fd(), "still here"));
  EXPECT_EQ(RecvExact(opened.socket.fd(), 10).data, "still here");
  ASSERT_TRUE(ShutdownWrite(opened.socket.fd()));
  EXPECT_EQ(RecvUntilClose(opened.socket.fd()).end, RecvEnd::kEof);
}

void ExpectRefusal(const std::optional<HttpResponseHead>& head, int status,
                   const std::string& error_type) {
  ASSERT_TRUE(head.has_value()) << "no response head";
  EXPECT_EQ(head->status, status);
  auto proxy_status = head->Header("proxy-status");
  ASSERT_TRUE(proxy_status.has_value()) << "no Proxy-Status header";
  EXPECT_NE(proxy_status->find("error=" + error_type + ";"), std::string::npos) << *proxy_status;
  EXPECT_NE(proxy_status->find("details=\""), std::string::npos) << *proxy_status;
  EXPECT_EQ(head->Header("connection").value_or(""), "close");
}

std::string ReadAndHash(int fd, size_t n, Millis timeout) {
  Sha256Stream hash;
  Deadline deadline(timeout);
  size_t received = 0;
  while (received < n) {
    Received chunk = RecvSome(fd, deadline.Remaining(), std::min<size_t>(n - received, 1 << 16));
    if (chunk.data.empty()) return "";
    received += chunk.data.size();
    hash.Update(chunk.data);
  }
  return hash.HexDigest();
}

}  // namespace deputy::test
