#include "support/well_known_server.h"

#include <optional>
#include <string_view>

#include "http/status_line.h"

namespace deputy::test {

namespace {

constexpr size_t kMaxRequestHead = 65536;
// How long a silent server or a finished answer waits for the client to go away; the server's
// stop ends the wait sooner.
constexpr Millis kLingerTimeout{300000};

std::string BuildResponse(const WellKnownServer::Response& response) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                    std::string(ReasonPhrase(response.status)) + "\r\n";
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  if (!FindHeader(response.headers, "Content-Length") &&
      !FindHeader(response.headers, "Transfer-Encoding")) {
    out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  }
  if (!FindHeader(response.headers, "Connection")) out += "Connection: close\r\n";
  out += "\r\n";
  out += response.body;
  return out;
}

// DrainUntilClose reads and drops what the client still sends, so closing does not reset the
// connection under a response the client has not read yet. True when the client closed the
// connection (end of stream or reset), false on the timeout or the server's stop.
bool DrainUntilClose(TlsConnection& conn, Millis timeout) {
  Deadline deadline(timeout);
  char buf[4096];
  while (conn.ReadSome(buf, sizeof(buf), deadline.Remaining()) > 0) {
  }
  return conn.last_status() == IoStatus::kClosed || conn.last_status() == IoStatus::kError;
}

}  // namespace

WellKnownServer::WellKnownServer(const KeyPair& key_pair, TlsServerOptions options)
    : server_(
          key_pair, [this](TlsConnection& conn) { Serve(conn); }, options) {}

void WellKnownServer::Set(const std::string& path, Response response) {
  std::lock_guard lock(mu_);
  responses_[path] = std::move(response);
}

int WellKnownServer::Requests(const std::string& path) const {
  std::lock_guard lock(mu_);
  auto it = counts_.find(path);
  return it == counts_.end() ? 0 : it->second;
}

int WellKnownServer::TotalRequests() const {
  std::lock_guard lock(mu_);
  return total_;
}

bool WellKnownServer::WaitForRequests(const std::string& path, int n, Millis timeout) const {
  std::unique_lock lock(mu_);
  return request_seen_.wait_for(lock, timeout, [&] {
    auto it = counts_.find(path);
    return it != counts_.end() && it->second >= n;
  });
}

WellKnownServer::~WellKnownServer() { Release(); }

void WellKnownServer::Release() {
  std::lock_guard lock(mu_);
  released_ = true;
  released_cv_.notify_all();
}

std::vector<WellKnownServer::Request> WellKnownServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void WellKnownServer::Serve(TlsConnection& conn) {
  std::string data;
  if (!ReadHeadFrom(conn, &data, kMaxRequestHead)) return;
  std::optional<HttpHead> head = ParseHttpHead(std::string_view(data).substr(0, FindHeadEnd(data)));
  if (!head) return;
  Request request;
  std::string_view line = head->start_line;
  size_t sp1 = line.find(' ');
  size_t sp2 = line.find(' ', sp1 == std::string_view::npos ? sp1 : sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos) return;
  request.method = std::string(line.substr(0, sp1));
  request.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  request.headers = std::move(head->headers);
  request.sni = conn.sni();
  std::string path = request.target.substr(0, request.target.find('?'));

  Response response;
  {
    std::lock_guard lock(mu_);
    auto it = responses_.find(path);
    if (it != responses_.end()) {
      response = it->second;
    } else {
      response.status = 404;
      response.headers = {{"Content-Type", "text/plain"}};
      response.body = "not found\n";
    }
    ++counts_[path];
    ++total_;
    requests_.push_back(std::move(request));
    request_seen_.notify_all();
  }
  Answer(conn, response);
}

void WellKnownServer::Answer(TlsConnection& conn, const Response& response) {
  if (response.never_answer) {
    if (DrainUntilClose(conn, kLingerTimeout)) closed_while_silent_.Add();
    return;
  }
  if (response.delay_ms > 0 && !conn.Pause(Millis(response.delay_ms))) return;
  if (response.held) {
    std::unique_lock lock(mu_);
    released_cv_.wait(lock, [this] { return released_; });
  }
  if (!conn.WriteAll(response.raw.empty() ? BuildResponse(response) : response.raw)) return;
  if (!conn.ShutdownWrite()) return;
  DrainUntilClose(conn, kDefaultTimeout);
}

}  // namespace deputy::test
