#include "http/https_client.h"

#include <spdlog/spdlog.h>

#include "base/run_once.h"
#include "log/warning_limiter.h"
#include "net/names.h"

namespace deputy {

namespace {

constexpr size_t kMaxResponseHeadBytes = 16 * 1024;

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

HttpsFetch::HttpsFetch(EventLoop& loop, DnsResolver& resolver, const DestinationGuard& guard,
                       SSL_CTX* ctx, FetchLimits limits)
    : loop_(loop),
      resolver_(resolver),
      guard_(guard),
      ctx_(ctx),
      limits_(limits),
      deadline_(loop, [this] {
        Finish(Status(ErrorCode::kLookupTimeout, "no complete answer from " + url_.ToString() +
                                                     " within " +
                                                     std::to_string(limits_.timeout_ms) + " ms"));
      }) {}

HttpsFetch::~HttpsFetch() {
  done_ = nullptr;
  ReleaseConnection();
}

void HttpsFetch::Start(const HttpsUrl& url, Callback done) {
  url_ = url;
  done_ = std::move(done);
  deadline_.Start(limits_.timeout_ms);
  StartHop();
}

void HttpsFetch::StartHop() {
  attempt_ = std::make_unique<TlsConnectAttempt>(loop_, resolver_, guard_, ctx_, limits_.connect);
  attempt_->Start(
      url_.host, url_.port, url_.host,
      [this](Result<TlsConnection> c) { OnConnected(std::move(c)); },
      [this](const std::string& where, const Status& status) {
        WarnLimited("well-known fetch attempt failed", "well-known fetch {}: {} failed: {}",
                    url_.ToString(), where, status.ToString());
      });
}

void HttpsFetch::OnConnected(Result<TlsConnection> connection) {
  loop_.DeferDelete(std::move(attempt_));
  if (!connection.ok()) {
    Finish(connection.status());
    return;
  }
  stream_ = std::move(connection->stream);
  // Truncation stays an error: a framed body (Content-Length, chunked) is complete before the
  // transport ends, so servers that skip close_notify still work, while a body delimited by the
  // connection's end is only trusted when close_notify authenticates that end.
  stream_->SetCallbacks(this);
  parser_ = std::make_unique<ResponseParser>(kMaxResponseHeadBytes, limits_.max_body_bytes);
  Buffer request;
  request.Append("GET " + url_.path + " HTTP/1.1\r\nHost: " + url_.HostHeader() +
                 "\r\nUser-Agent: deputy/" DEPUTY_VERSION
                 "\r\nAccept: application/json\r\nConnection: close\r\n\r\n");
  stream_->Write(request);
  if (stream_) stream_->SetReadEnabled(true);
}

void HttpsFetch::OnData(Buffer& data) {
  if (parser_->Feed(data) != ResponseParser::State::kNeedMore) OnResponse();
}

void HttpsFetch::OnEndOfStream() {
  parser_->Finish();
  OnResponse();
}

void HttpsFetch::OnError(const Status& status) {
  // A connection that breaks once the head is in cut the answer short (RFC 9209's
  // http_response_incomplete), which is not the same as a server that never answered.
  if (parser_ && parser_->head_complete()) {
    Finish(Status(ErrorCode::kResponseIncomplete,
                  url_.ToString() + ": response cut short: " + status.message()));
    return;
  }
  Finish(Status(status.code(), url_.ToString() + ": " + status.message()));
}

void HttpsFetch::OnResponse() {
  if (!parser_->error().ok()) {
    Finish(Status(parser_->error().code(), url_.ToString() + ": " + parser_->error().message()));
    return;
  }
  HttpResponse response = std::move(parser_->response());
  ReleaseConnection();
  if (IsRedirect(response.status)) {
    std::string_view location = response.Header("location");
    if (location.empty()) {
      Finish(Status(ErrorCode::kBadRedirect, url_.ToString() + ": redirect " +
                                                 std::to_string(response.status) +
                                                 " without a Location header"));
      return;
    }
    if (redirects_ >= limits_.max_redirects) {
      Finish(Status(
          ErrorCode::kBadRedirect,
          url_.ToString() + ": more than " + std::to_string(limits_.max_redirects) + " redirects"));
      return;
    }
    Result<HttpsUrl> next = ResolveLocation(url_, location);
    if (!next.ok()) {
      Finish(Status(next.status().code(), url_.ToString() + " redirects to " +
                                              QuoteUntrusted(location) + ": " +
                                              next.status().message()));
      return;
    }
    ++redirects_;
    spdlog::debug("{} redirects to {}", url_.ToString(), next->ToString());
    url_ = std::move(next).value();
    StartHop();
    return;
  }
  FetchResult result;
  result.response = std::move(response);
  result.final_url = url_.ToString();
  result.redirects = redirects_;
  Finish(std::move(result));
}

void HttpsFetch::ReleaseConnection() {
  if (stream_) {
    stream_->Close();
    loop_.DeferDelete(std::move(stream_));
  }
  parser_.reset();
}

void HttpsFetch::Finish(Result<FetchResult> result) {
  deadline_.Stop();
  attempt_.reset();
  ReleaseConnection();
  RunOnce(done_, std::move(result));
}

}  // namespace deputy
