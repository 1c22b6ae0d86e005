#include "http/status_line.h"

#include <gtest/gtest.h>

namespace deputy {
namespace {

TEST(StatusLineTest, ErrorResponseCarriesProxyStatusAndOneLineBody) {
  std::string response =
      ErrorResponse(Status(ErrorCode::kTlsCertificateError, "bad \"cert\" \\ for x\r\ny"), 1);
  EXPECT_EQ(response.rfind("HTTP/1.1 502 Bad Gateway\r\n", 0), 0u);
  EXPECT_NE(response.find("Proxy-Status: deputy; error=tls_certificate_error; "
                          "details=\"bad \\\"cert\\\" \\\\ for x??y\"\r\n"),
            std::string::npos);
  EXPECT_NE(response.find("Connection: close\r\n"), std::string::npos);
  std::string body = response.substr(response.find("\r\n\r\n") + 4);
  EXPECT_EQ(body, "bad \"cert\" \\ for x??y\n");
  EXPECT_NE(response.find("Content-Length: " + std::to_string(body.size())), std::string::npos);
}

TEST(StatusLineTest, StatusCodesFollowTheErrorTable) {
  EXPECT_EQ(ErrorResponse(Status(ErrorCode::kMethodNotAllowed, "x"), 1).substr(0, 12),
            "HTTP/1.1 405");
  EXPECT_EQ(ErrorResponse(Status(ErrorCode::kDenied, "x"), 0).substr(0, 12), "HTTP/1.0 403");
  EXPECT_EQ(ErrorResponse(Status(ErrorCode::kLookupTimeout, "x"), 1).substr(0, 12), "HTTP/1.1 504");
  EXPECT_EQ(ErrorResponse(Status(ErrorCode::kHeadersTooLarge, "x"), 1).substr(0, 12),
            "HTTP/1.1 431");
  EXPECT_NE(ErrorResponse(Status(ErrorCode::kMethodNotAllowed, "x"), 1).find("Allow: CONNECT"),
            std::string::npos);
}

}  // namespace
}  // namespace deputy
