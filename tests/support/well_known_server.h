#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "support/http_head.h"
#include "support/test_pki.h"
#include "support/tls_server.h"

namespace deputy::test {

// WellKnownServer is an HTTPS/1.1 server (one request per connection) answering each path with a
// configured response, and 404 for paths not configured. It stands in for the web server that
// publishes delegation documents; give it a certificate for the wrong name to test
// verification.
class WellKnownServer {
 public:
  struct Response {
    int status = 200;
    HeaderList headers;  // Content-Length and Connection: close are added unless present
    std::string body;
    bool never_answer = false;  // read the request, then stay silent until the client leaves
    int delay_ms = 0;           // wait this long before answering
    bool held = false;          // answer only once Release() is called (or the server goes)
    std::string raw;            // when not empty, sent verbatim instead of a built response
  };

  // A request as the server saw it.
  struct Request {
    std::string method;
    std::string target;  // as sent, query included
    HeaderList headers;
    std::string sni;
  };

  explicit WellKnownServer(const KeyPair& key_pair, TlsServerOptions options = {});
  ~WellKnownServer();  // releases held responses, so the handlers can end

  uint16_t port() const { return server_.port(); }
  // Set answers `path` (the request target without any query) with `response` from now on.
  void Set(const std::string& path, Response response);
  // Requests counts complete requests for `path`; TotalRequests counts them for every path.
  int Requests(const std::string& path) const;
  int TotalRequests() const;
  // WaitForRequests waits until `path` has had at least `n` requests.
  bool WaitForRequests(const std::string& path, int n, Millis timeout = kDefaultTimeout) const;
  std::vector<Request> requests() const;
  // Release lets every held response go, now and from now on.
  void Release();
  // Connections the client closed while a never_answer response held them silent.
  const Counter& closed_while_silent() const { return closed_while_silent_; }
  const TlsServer& tls() const { return server_; }

 private:
  void Serve(TlsConnection& conn);
  void Answer(TlsConnection& conn, const Response& response);

  mutable std::mutex mu_;
  mutable std::condition_variable request_seen_;
  std::condition_variable released_cv_;
  bool released_ = false;
  std::map<std::string, Response> responses_;
  std::map<std::string, int> counts_;
  std::vector<Request> requests_;
  int total_ = 0;
  Counter closed_while_silent_;
  TlsServer server_;  // last: stops before the state its handlers use goes away
};

}  // namespace deputy::test
