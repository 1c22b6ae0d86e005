#include "support/client.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>

namespace deputy::test {

Socket ConnectTcp(uint16_t port, Millis timeout, bool (*configure)(int fd)) {
  IgnoreSigpipe();
  Deadline deadline(timeout);
  Socket sock(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sock.valid()) return sock;
  if (configure != nullptr && !configure(sock.fd())) return Socket();
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(sock.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) return Socket();
    if (WaitFd(sock.fd(), POLLOUT, deadline) != WaitResult::kReady) return Socket();
    int error = 0;
    socklen_t len = sizeof(error);
    // A reset here means the connection was made and then aborted by the server: that is for
    // the caller's next read to find out, not a failure to connect.
    if (getsockopt(sock.fd(), SOL_SOCKET, SO_ERROR, &error, &len) != 0 ||
        (error != 0 && error != ECONNRESET)) {
      return Socket();
    }
  }
  if (!SetNonBlocking(sock.fd(), false)) return Socket();
  return sock;
}

bool SendAll(int fd, std::string_view data, Millis timeout) {
  Deadline deadline(timeout);
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
    if (WaitFd(fd, POLLOUT, deadline) != WaitResult::kReady) return false;
  }
  return true;
}

bool ShutdownWrite(int fd) { return shutdown(fd, SHUT_WR) == 0; }

namespace {

// RecvInto appends at most `max` bytes from one read to `out`, waiting until the deadline.
// kData means bytes arrived.
RecvEnd RecvInto(int fd, size_t max, const Deadline& deadline, std::string* out) {
  char buf[65536];
  if (max > sizeof(buf)) max = sizeof(buf);
  for (;;) {
    ssize_t n = recv(fd, buf, max, MSG_DONTWAIT);
    if (n > 0) {
      out->append(buf, static_cast<size_t>(n));
      return RecvEnd::kData;
    }
    if (n == 0) return RecvEnd::kEof;
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return RecvEnd::kReset;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return RecvEnd::kError;
    switch (WaitFd(fd, POLLIN, deadline)) {
      case WaitResult::kReady:
        break;
      case WaitResult::kTimeout:
        return RecvEnd::kTimeout;
      case WaitResult::kStopped:
      case WaitResult::kError:
        return RecvEnd::kError;
    }
  }
}

}  // namespace

Received RecvSome(int fd, Millis timeout, size_t max) {
  Received out;
  out.end = RecvInto(fd, max, Deadline(timeout), &out.data);
  return out;
}

Received RecvExact(int fd, size_t n, Millis timeout) {
  Deadline deadline(timeout);
  Received out;
  while (out.data.size() < n) {
    out.end = RecvInto(fd, n - out.data.size(), deadline, &out.data);
    if (out.end != RecvEnd::kData) return out;
  }
  out.end = RecvEnd::kData;
  return out;
}

Received RecvUntilClose(int fd, Millis timeout) {
  Deadline deadline(timeout);
  Received out;
  do {
    out.end = RecvInto(fd, 65536, deadline, &out.data);
  } while (out.end == RecvEnd::kData);
  return out;
}

namespace {

void SetError(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

std::string DescribeEnd(RecvEnd end) {
  switch (end) {
    case RecvEnd::kData:
      return "data";
    case RecvEnd::kEof:
      return "connection closed";
    case RecvEnd::kReset:
      return "connection reset";
    case RecvEnd::kTimeout:
      return "timed out";
    case RecvEnd::kError:
      return "receive error";
  }
  return "unknown";
}

// DecodeChunked decodes a complete chunked body; nullopt if it is malformed or cut short.
std::optional<std::string> DecodeChunked(std::string_view data) {
  std::string out;
  for (;;) {
    size_t eol = data.find("\r\n");
    if (eol == std::string_view::npos) return std::nullopt;
    std::string size_text(data.substr(0, eol));
    char* end = nullptr;
    unsigned long size = std::strtoul(size_text.c_str(), &end, 16);
    if (end == size_text.c_str()) return std::nullopt;
    data.remove_prefix(eol + 2);
    if (size == 0) return out;
    if (data.size() < size + 2) return std::nullopt;
    out.append(data.substr(0, size));
    data.remove_prefix(size + 2);
  }
}

}  // namespace

std::optional<HttpResponseHead> ReadHttpResponseHead(int fd, Millis timeout, std::string* error,
                                                     size_t max_bytes) {
  Deadline deadline(timeout);
  std::string data;
  size_t head_end;
  while ((head_end = FindHeadEnd(data)) == std::string::npos) {
    if (data.size() >= max_bytes) {
      SetError(error, "response head over " + std::to_string(max_bytes) + " bytes");
      return std::nullopt;
    }
    RecvEnd end = RecvInto(fd, max_bytes - data.size(), deadline, &data);
    if (end != RecvEnd::kData) {
      SetError(error, DescribeEnd(end) + " before the end of the response head, after: " + data);
      return std::nullopt;
    }
  }
  std::optional<HttpHead> head = ParseHttpHead(std::string_view(data).substr(0, head_end));
  HttpResponseHead out;
  std::string_view line;
  if (head) line = head->start_line;
  size_t sp1 = line.find(' ');
  if (!head || sp1 == std::string_view::npos || !line.starts_with("HTTP/")) {
    SetError(error, "malformed response head: " + data.substr(0, head_end));
    return std::nullopt;
  }
  out.version = std::string(line.substr(0, sp1));
  std::string_view rest = line.substr(sp1 + 1);
  size_t sp2 = rest.find(' ');
  std::string code(rest.substr(0, sp2));
  out.status = std::atoi(code.c_str());
  if (code.size() != 3 || out.status < 100) {
    SetError(error, "malformed status line: " + std::string(line));
    return std::nullopt;
  }
  if (sp2 != std::string_view::npos) out.reason = std::string(rest.substr(sp2 + 1));
  out.headers = std::move(head->headers);
  out.extra = data.substr(head_end);
  return out;
}

std::optional<HttpResponse> ReadHttpResponse(int fd, Millis timeout, std::string* error) {
  Deadline deadline(timeout);
  std::optional<HttpResponseHead> head = ReadHttpResponseHead(fd, timeout, error);
  if (!head) return std::nullopt;
  HttpResponse out;
  out.body = std::move(head->extra);
  head->extra.clear();
  out.head = std::move(*head);
  if (std::optional<std::string> length = out.head.Header("Content-Length")) {
    size_t want = std::strtoul(length->c_str(), nullptr, 10);
    if (out.body.size() < want) {
      Received rest = RecvExact(fd, want - out.body.size(), deadline.Remaining());
      out.body += rest.data;
      if (rest.end != RecvEnd::kData) {
        SetError(error, DescribeEnd(rest.end) + " before the end of the body");
        return std::nullopt;
      }
    }
    out.body.resize(want);
    return out;
  }
  Received rest = RecvUntilClose(fd, deadline.Remaining());
  out.body += rest.data;
  if (rest.end != RecvEnd::kEof) {
    SetError(error, DescribeEnd(rest.end) + " before the end of the body");
    return std::nullopt;
  }
  std::optional<std::string> encoding = out.head.Header("Transfer-Encoding");
  if (encoding && encoding->find("chunked") != std::string::npos) {
    std::optional<std::string> body = DecodeChunked(out.body);
    if (!body) {
      SetError(error, "malformed chunked body");
      return std::nullopt;
    }
    out.body = std::move(*body);
  }
  return out;
}

std::optional<HttpResponse> HttpGet(uint16_t port, const std::string& path, Millis timeout) {
  return HttpRequest(port, "GET", path, "", timeout);
}

std::optional<HttpResponse> HttpRequest(uint16_t port, const std::string& method,
                                        const std::string& path, const std::string& headers,
                                        Millis timeout) {
  Deadline deadline(timeout);
  Socket sock = ConnectTcp(port, timeout);
  if (!sock.valid()) return std::nullopt;
  // A GET says nothing of a body; any other method says it has none.
  const std::string length = method == "GET" ? "" : "Content-Length: 0\r\n";
  std::string request = method + " " + path +
                        " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n" + headers +
                        length + "Connection: close\r\n\r\n";
  if (!SendAll(sock.fd(), request, deadline.Remaining())) return std::nullopt;
  return ReadHttpResponse(sock.fd(), deadline.Remaining());
}

std::string ConnectRequest(std::string_view authority) {
  std::string host(authority);
  return "CONNECT " + host + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
}

}  // namespace deputy::test
