// A users file is read whole or refused whole, with the line that is wrong named, and only
// hashes libxcrypt verifies and does not call legacy get in.
#include "auth/users_file.h"

#include <gtest/gtest.h>

#include "support/password_hash.h"
#include "support/temp_dir.h"

namespace deputy {
namespace {

std::string RejectionOf(const std::string& text) {
  Result<UsersTable> table = UsersTable::Parse(text, "users");
  return table.ok() ? "accepted" : table.status().message();
}

TEST(UsersFile, ReadsEveryModernMethodAndSkipsCommentsAndBlankLines) {
  const std::string yescrypt = test::HashPassword("a", "$y$");
  const std::string bcrypt = test::HashPassword("b", "$2b$", 5);
  const std::string sha512 = test::HashPassword("c", "$6$");
  Result<UsersTable> table = UsersTable::Parse(
      "# proxy users\n\nalice:" + yescrypt + "\r\nbob:" + bcrypt + "\n   \ncarol:" + sha512,
      "users");
  ASSERT_TRUE(table.ok()) << table.status().message();
  EXPECT_EQ(table->size(), 3u);
  ASSERT_NE(table->HashOf("alice"), nullptr);
  EXPECT_EQ(*table->HashOf("alice"), yescrypt);
  EXPECT_EQ(*table->HashOf("bob"), bcrypt);
  EXPECT_EQ(*table->HashOf("carol"), sha512);
  EXPECT_EQ(table->HashOf("Alice"), nullptr);
  EXPECT_EQ(table->HashOf("dave"), nullptr);
  EXPECT_NE(table->AnyHash(), nullptr);
}

TEST(UsersFile, SaysWhenHashesDifferInMethodOrCost) {
  const auto mixed = [](const std::vector<std::string>& hashes) {
    std::string text;
    for (size_t i = 0; i < hashes.size(); ++i)
      text += "u" + std::to_string(i) + ":" + hashes[i] + "\n";
    Result<UsersTable> table = UsersTable::Parse(text, "users");
    EXPECT_TRUE(table.ok()) << table.status().message();
    return table.ok() && table->MixedSettings();
  };
  // Salts differ between every two hashes; only method and cost count.
  EXPECT_FALSE(mixed({test::HashPassword("a"), test::HashPassword("b")}));
  EXPECT_FALSE(mixed({test::HashPassword("a", "$2b$", 5), test::HashPassword("b", "$2b$", 5)}));
  EXPECT_FALSE(mixed({test::HashPassword("a", "$6$"), test::HashPassword("b", "$6$")}));
  EXPECT_TRUE(mixed({test::HashPassword("a"), test::HashPassword("b", "$2b$", 5)}));
  EXPECT_TRUE(mixed({test::HashPassword("a", "$2b$", 5), test::HashPassword("b", "$2b$", 6)}));
  EXPECT_TRUE(mixed({test::HashPassword("a", "$6$"), test::HashPassword("b", "$6$", 9000)}));
}

TEST(UsersFile, AnEmptyFileHasNoUsers) {
  Result<UsersTable> table = UsersTable::Parse("# nobody yet\n", "users");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->size(), 0u);
  EXPECT_EQ(table->AnyHash(), nullptr);
}

TEST(UsersFile, RefusesTheWholeFileAtTheFirstBadLine) {
  const std::string hash = test::HashPassword("a");
  EXPECT_EQ(RejectionOf("alice:" + hash + "\nbob\n"), "users line 2: expected user:hash");
  EXPECT_EQ(RejectionOf(":" + hash), "users line 1: user \"\" is empty or has control characters");
  EXPECT_EQ(RejectionOf("al\x01ice:" + hash),
            "users line 1: user \"al?ice\" is empty or has control characters");
  EXPECT_EQ(RejectionOf("alice:" + hash + "\nalice:" + hash),
            "users line 2: user \"alice\" appears on an earlier line too");
  EXPECT_EQ(RejectionOf("alice:" + hash + ":19000:0:99999:7:::"),
            "users line 1: expected user:hash, got more fields");
}

TEST(UsersFile, RefusesLegacyAndUnknownHashes) {
  // DES and md5-crypt are what old htpasswd and shadow files hold; apr1 is Apache's own.
  EXPECT_NE(RejectionOf("alice:abJnggxhB/yWI").find("is not a crypt(3) hash"), std::string::npos);
  EXPECT_NE(RejectionOf("alice:" + test::HashPassword("a", "$1$")).find("is a legacy hash"),
            std::string::npos);
  EXPECT_NE(RejectionOf("alice:$apr1$salt$0123456789abcdefghijkl").find("is not a crypt(3) hash"),
            std::string::npos);
  EXPECT_NE(RejectionOf("alice:secret").find("is not a crypt(3) hash"), std::string::npos);
  EXPECT_NE(RejectionOf("alice:").find("is not a crypt(3) hash"), std::string::npos);
}

TEST(UsersFile, LoadNamesTheFileAndRefusesAHugeOne) {
  test::TempDir dir;
  const std::string path = dir.Write("users", "alice\n");
  Result<UsersTable> bad = UsersTable::Load(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), path + " line 1: expected user:hash");
  Result<UsersTable> missing = UsersTable::Load(dir.path() + "/absent");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot read"), std::string::npos);
  const std::string huge = dir.Write("huge", std::string(UsersTable::kMaxFileBytes + 1, '#'));
  Result<UsersTable> too_large = UsersTable::Load(huge);
  ASSERT_FALSE(too_large.ok());
  EXPECT_NE(too_large.status().message().find("is larger than"), std::string::npos);
}

}  // namespace
}  // namespace deputy
