#include "http/cache_control.h"

#include <gtest/gtest.h>

namespace deputy {
namespace {

constexpr int64_t kNov6 = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
constexpr char kDate[] = "Sun, 06 Nov 1994 08:49:37 GMT";

TEST(ParseHttpDateTest, ThreeForms) {
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), kNov6);
  EXPECT_EQ(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"), kNov6);
  EXPECT_EQ(ParseHttpDate("Sun Nov  6 08:49:37 1994"), kNov6);
  EXPECT_EQ(ParseHttpDate("  Sun, 06 Nov 1994 08:49:37 GMT "), kNov6);
  EXPECT_EQ(ParseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_EQ(ParseHttpDate("Thu, 29 Feb 2024 23:59:59 GMT"), 1709251199);
  EXPECT_EQ(ParseHttpDate("Thu Feb 29 23:59:59 2024"), 1709251199);
  EXPECT_EQ(ParseHttpDate("Wed, 31 Dec 1969 23:59:59 GMT"), -1);
  EXPECT_EQ(ParseHttpDate("Thursday, 01-Jan-70 00:00:00 GMT"), 0);
  EXPECT_EQ(ParseHttpDate("Friday, 01-Jan-38 00:00:00 GMT"), 2145916800);
}

TEST(ParseHttpDateTest, RejectsMalformed) {
  for (const char* text : {"",
                           "0",
                           "-1",
                           "tomorrow",
                           "Sun, 06 Nov 1994 08:49:37",
                           "Sun, 06 Nov 1994 08:49:37 UTC",
                           "Sun, 6 Nov 1994 08:49:37 GMT",
                           "Sun, 06 nov 1994 08:49:37 GMT",
                           "Sun, 31 Nov 1994 08:49:37 GMT",
                           "Sun, 29 Feb 2023 08:49:37 GMT",
                           "Sun, 06 Nov 1994 24:00:00 GMT",
                           "Sun, 06 Nov 1994 08:60:00 GMT",
                           "Sun, 06 Nov 1994 08:49:37 GMTX",
                           "Xyz, 06 Nov 1994 08:49:37 GMT",
                           "Sun, 06 Nov 94 08:49:37 GMT",
                           "Sunday, 06-Nov-1994 08:49:37 GMT",
                           "Sun Nov 6 08:49:37 1994",
                           "Sun Nov  6 08:49:37 94",
                           "Sun, 00 Nov 1994 08:49:37 GMT",
                           "Sun, 06 Nov 1994 8:49:37 GMT"}) {
    EXPECT_EQ(ParseHttpDate(text), std::nullopt) << text;
  }
}

TEST(ResponseLifetimeTest, MaxAge) {
  EXPECT_EQ(ResponseLifetime("max-age=600", "", ""), 600);
  EXPECT_EQ(ResponseLifetime("public, MAX-AGE = 600 ,must-revalidate", "", ""), 600);
  EXPECT_EQ(ResponseLifetime("max-age=\"120\"", "", ""), 120);
  EXPECT_EQ(ResponseLifetime("max-age=0", "", ""), 0);
  EXPECT_EQ(ResponseLifetime("max-age=99999999999999999999999999999", "", ""), int64_t{1} << 31);
  EXPECT_EQ(ResponseLifetime("max-age=10, max-age=20", "", ""), 10) << "first occurrence";
}

TEST(ResponseLifetimeTest, InvalidMaxAgeIsStale) {
  for (const char* value : {"max-age=-1", "max-age=", "max-age", "max-age=1.5", "max-age=abc",
                            "max-age=\"12", "max-age=1 2"}) {
    EXPECT_EQ(ResponseLifetime(value, "", ""), 0) << value;
  }
}

TEST(ResponseLifetimeTest, NoStoreAndNoCacheMeanZero) {
  EXPECT_EQ(ResponseLifetime("no-store", "", ""), 0);
  EXPECT_EQ(ResponseLifetime("max-age=600, No-Cache", "", ""), 0);
  EXPECT_EQ(ResponseLifetime("no-cache=\"Set-Cookie\", max-age=600", "", ""), 0);
  EXPECT_EQ(ResponseLifetime("NO-STORE", "Sun, 06 Nov 1994 09:49:37 GMT", kDate), 0);
}

TEST(ResponseLifetimeTest, SharedCacheHonoursSMaxage) {
  EXPECT_EQ(ResponseLifetime("max-age=600, s-maxage=60", "", ""), 60);
  EXPECT_EQ(ResponseLifetime("S-MAXAGE=7200,max-age=600", "", ""), 7200);
}

TEST(ResponseLifetimeTest, MaxAgeWinsOverExpires) {
  EXPECT_EQ(ResponseLifetime("max-age=5", "Sun, 06 Nov 1994 09:49:37 GMT", kDate), 5);
}

TEST(ResponseLifetimeTest, ExpiresMinusDate) {
  EXPECT_EQ(ResponseLifetime("", "Sun, 06 Nov 1994 09:49:37 GMT", kDate), 3600);
  EXPECT_EQ(ResponseLifetime("public", "Sunday, 06-Nov-94 08:50:37 GMT", kDate), 60);
  EXPECT_EQ(ResponseLifetime("", "Sun, 06 Nov 1994 07:49:37 GMT", kDate), 0) << "in the past";
  EXPECT_EQ(ResponseLifetime("", "0", kDate), 0) << "invalid Expires means already expired";
  EXPECT_EQ(ResponseLifetime("", "-1", ""), 0);
  // Without a usable Date the arrival time stands in: an Expires in 1994 is long past.
  EXPECT_EQ(ResponseLifetime("", "Sun, 06 Nov 1994 09:49:37 GMT", ""), 0);
  EXPECT_EQ(ResponseLifetime("", "Sun, 06 Nov 1994 09:49:37 GMT", "yesterday"), 0);
  std::optional<int64_t> future = ResponseLifetime("", "Fri, 01 Jan 2100 00:00:00 GMT", "");
  ASSERT_TRUE(future.has_value());
  EXPECT_GT(*future, 0);
}

TEST(ResponseLifetimeTest, AgeIsSubtracted) {
  EXPECT_EQ(ResponseLifetime("max-age=100", "", "", "30"), 70);
  EXPECT_EQ(ResponseLifetime("max-age=100", "", "", "300"), 0);
  EXPECT_EQ(ResponseLifetime("max-age=100", "", "", "junk"), 100);
  EXPECT_EQ(ResponseLifetime("", "", "", "30"), std::nullopt);
}

TEST(ResponseLifetimeTest, PrivateIsNotStored) {
  EXPECT_EQ(ResponseLifetime("max-age=600, PRIVATE", "", ""), 0);
}

TEST(ResponseLifetimeTest, NothingSaid) {
  EXPECT_EQ(ResponseLifetime("", "", ""), std::nullopt);
  EXPECT_EQ(ResponseLifetime("public, must-revalidate", "", kDate), std::nullopt);
  EXPECT_EQ(ResponseLifetime(" , ,, ", "  ", kDate), std::nullopt);
  EXPECT_EQ(ResponseLifetime("max-agex=10, xmax-age=5", "", ""), std::nullopt);
}

TEST(ClampTtlTest, DefaultAndBounds) {
  EXPECT_EQ(ClampTtl(std::nullopt, 60, 86400, 3600), 3600);
  EXPECT_EQ(ClampTtl(0, 60, 86400, 3600), 60);
  EXPECT_EQ(ClampTtl(-5, 60, 86400, 3600), 60);
  EXPECT_EQ(ClampTtl(600, 60, 86400, 3600), 600);
  EXPECT_EQ(ClampTtl(int64_t{1} << 31, 60, 86400, 3600), 86400);
  EXPECT_EQ(ClampTtl(1, 0, 86400, 3600), 1);
}

}  // namespace
}  // namespace deputy
