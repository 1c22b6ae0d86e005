#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "http/response_parser.h"
#include "http/url.h"
#include "loop/event_loop.h"
#include "loop/timer.h"
#include "net/dns_resolver.h"
#include "tls/tls_connector.h"

namespace deputy {

struct FetchLimits {
  uint32_t timeout_ms = 5000;  // the whole fetch, redirects included
  size_t max_body_bytes = 65536;
  uint32_t max_redirects = 3;
  ConnectTimeouts connect;
};

struct FetchResult {
  HttpResponse response;
  std::string final_url;
  uint32_t redirects = 0;
};

// HttpsFetch GETs one https:// URL asynchronously: every hop's certificate is verified for that
// hop's host, redirects go only to https:// URLs and at most max_redirects times, and the body
// is bounded. Destroying it cancels the fetch; the callback then never runs.
class HttpsFetch : public Deferrable, private StreamCallbacks {
 public:
  using Callback = std::function<void(Result<FetchResult>)>;

  // Every hop connects only to addresses `guard` permits.
  HttpsFetch(EventLoop& loop, DnsResolver& resolver, const DestinationGuard& guard, SSL_CTX* ctx,
             FetchLimits limits);
  ~HttpsFetch() override;

  void Start(const HttpsUrl& url, Callback done);

 private:
  void StartHop();
  void OnConnected(Result<TlsConnection> connection);
  void OnData(Buffer& data) override;
  void OnEndOfStream() override;
  void OnWriteDrained() override {}
  void OnError(const Status& status) override;
  void OnResponse();
  void Finish(Result<FetchResult> result);
  void ReleaseConnection();

  EventLoop& loop_;
  DnsResolver& resolver_;
  const DestinationGuard& guard_;
  SSL_CTX* ctx_;
  FetchLimits limits_;
  HttpsUrl url_;
  Callback done_;
  Timer deadline_;
  std::unique_ptr<TlsConnectAttempt> attempt_;
  std::unique_ptr<TlsStream> stream_;
  std::unique_ptr<ResponseParser> parser_;
  uint32_t redirects_ = 0;
};

}  // namespace deputy
