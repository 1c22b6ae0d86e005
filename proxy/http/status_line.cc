#include "http/status_line.h"

#include "base/untrusted_text.h"

namespace deputy {

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 410:
      return "Gone";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Error";
  }
}

std::string ProxyStatusValue(const Status& status) {
  std::string details;
  for (char c : Printable(status.message())) {
    if (c == '"' || c == '\\') details += '\\';
    details += c;
  }
  return "deputy; error=" + std::string(Describe(status.code()).proxy_status) + "; details=\"" +
         details + "\"";
}

std::string ErrorResponse(const Status& status, int http_minor, std::string_view extra_headers) {
  int code = Describe(status.code()).http_status;
  std::string body = Printable(status.message()) + "\n";
  std::string out = http_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(code) + " " + std::string(ReasonPhrase(code)) + "\r\n";
  out += "Proxy-Status: " + ProxyStatusValue(status) + "\r\n";
  if (code == 405) out += "Allow: CONNECT\r\n";
  out += extra_headers;
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "Connection: close\r\n\r\n";
  out += body;
  return out;
}

}  // namespace deputy
