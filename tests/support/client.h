#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "support/http_head.h"
#include "support/socket.h"
#include "support/wait.h"

namespace deputy::test {

// Blocking client helpers for talking to deputy (or a fixture) over plain TCP on 127.0.0.1.
// Sockets stay in blocking mode for the caller; the helpers never block past their timeout.

// ConnectTcp connects to 127.0.0.1:`port`; an invalid Socket if refused or timed out.
// `configure`, when given, sets socket options before the connect (and may fail it).
Socket ConnectTcp(uint16_t port, Millis timeout = kDefaultTimeout,
                  bool (*configure)(int fd) = nullptr);

// SendAll writes every byte of `data` within `timeout`.
bool SendAll(int fd, std::string_view data, Millis timeout = kDefaultTimeout);

// ShutdownWrite half-closes the connection (TCP FIN); reading stays possible.
bool ShutdownWrite(int fd);

// How a receive ended.
enum class RecvEnd {
  kData,   // RecvSome/RecvExact got what they wanted
  kEof,    // the peer closed its write side (FIN)
  kReset,  // the peer reset the connection (RST)
  kTimeout,
  kError,
};

struct Received {
  std::string data;
  RecvEnd end = RecvEnd::kData;
};

// RecvSome returns what one read delivers (at most `max` bytes), or how the connection ended.
Received RecvSome(int fd, Millis timeout = kDefaultTimeout, size_t max = 65536);
// RecvExact reads exactly `n` bytes; on failure `data` holds what arrived before the end.
Received RecvExact(int fd, size_t n, Millis timeout = kDefaultTimeout);
// RecvUntilClose reads until EOF, a reset, an error or the timeout, and reports which.
Received RecvUntilClose(int fd, Millis timeout = kDefaultTimeout);

struct HttpResponseHead {
  std::string version;  // "HTTP/1.1"
  int status = 0;
  std::string reason;
  HeaderList headers;
  std::string extra;  // bytes read past the head: the start of the body or tunnel

  std::optional<std::string> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
};

// ReadHttpResponseHead reads a response head (at most `max_bytes`); nullopt on timeout, close or
// a malformed head. `*error`, when given, says which.
std::optional<HttpResponseHead> ReadHttpResponseHead(int fd, Millis timeout = kDefaultTimeout,
                                                     std::string* error = nullptr,
                                                     size_t max_bytes = 65536);

struct HttpResponse {
  HttpResponseHead head;
  std::string body;  // decoded if chunked
};

// ReadHttpResponse reads a head and its body: Content-Length bytes, chunks, or up to EOF.
std::optional<HttpResponse> ReadHttpResponse(int fd, Millis timeout = kDefaultTimeout,
                                             std::string* error = nullptr);

// HttpGet sends a plain HTTP/1.1 GET (Connection: close) to 127.0.0.1:`port`, e.g. for the admin
// endpoint, and returns the response.
std::optional<HttpResponse> HttpGet(uint16_t port, const std::string& path,
                                    Millis timeout = kDefaultTimeout);

// HttpRequest sends `method` `path` with `headers` (complete lines, each ending in CRLF) and no
// body (Connection: close) to 127.0.0.1:`port`, and returns the response.
std::optional<HttpResponse> HttpRequest(uint16_t port, const std::string& method,
                                        const std::string& path, const std::string& headers = "",
                                        Millis timeout = kDefaultTimeout);

// ConnectRequest is "CONNECT `authority` HTTP/1.1" with a Host header and an empty line.
std::string ConnectRequest(std::string_view authority);

}  // namespace deputy::test
