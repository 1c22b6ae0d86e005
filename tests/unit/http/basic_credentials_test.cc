// Proxy-Authorization: Basic is read as RFC 7617 says, and anything else gets a reason.
#include "http/basic_credentials.h"

#include <gtest/gtest.h>

namespace deputy {
namespace {

TEST(BasicCredentials, ReadsUserAndPasswordWhateverTheSchemeCase) {
  Result<BasicCredentials> parsed = ParseBasicCredentials("Basic YWxpY2U6c2VjcmV0");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->user, "alice");
  EXPECT_EQ(parsed->password, "secret");
  Result<BasicCredentials> lower = ParseBasicCredentials("basic   YWxpY2U6c2VjcmV0");
  ASSERT_TRUE(lower.ok());
  EXPECT_EQ(lower->user, "alice");
}

TEST(BasicCredentials, APasswordMayHoldColonsAndBeEmpty) {
  // base64("bob:a:b:c") and base64("bob:")
  Result<BasicCredentials> colons = ParseBasicCredentials("Basic Ym9iOmE6Yjpj");
  ASSERT_TRUE(colons.ok());
  EXPECT_EQ(colons->user, "bob");
  EXPECT_EQ(colons->password, "a:b:c");
  Result<BasicCredentials> empty = ParseBasicCredentials("Basic Ym9iOg==");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->password, "");
}

TEST(BasicCredentials, AnotherSchemeAsksForBasic) {
  Result<BasicCredentials> bearer = ParseBasicCredentials("Bearer abc");
  ASSERT_FALSE(bearer.ok());
  EXPECT_EQ(bearer.status().code(), ErrorCode::kAuthRequired);
  EXPECT_EQ(bearer.status().message(),
            "proxy authentication scheme \"Bearer\" is not supported; use Basic");
}

TEST(BasicCredentials, MalformedValuesAreBadRequests) {
  const std::pair<const char*, const char*> cases[] = {
      {"Basic", "Basic credentials are empty"},
      {"Basic ", "Basic credentials are empty"},
      {"Basic !!!!", "Basic credentials are not base64"},
      {"Basic YWxpY2U", "Basic credentials are not base64"},  // unpadded
      {"Basic YWxpY2U=", "Basic credentials are not user:password"},
      {"Basic OnNlY3JldA==", "Basic credentials have an empty user name"},
      {"Basic YWwKaWNlOng=", "Basic credentials hold control characters"},  // "al\nice:x"
  };
  for (const auto& [value, why] : cases) {
    Result<BasicCredentials> parsed = ParseBasicCredentials(value);
    ASSERT_FALSE(parsed.ok()) << value;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kBadRequest) << value;
    EXPECT_EQ(parsed.status().message(), why) << value;
  }
}

}  // namespace
}  // namespace deputy
