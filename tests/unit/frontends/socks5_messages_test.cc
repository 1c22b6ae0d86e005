// The SOCKS 5 messages are read only when whole, never past their end, and every refusal
// reason has the reply code RFC 1928 gives it.
#include "frontends/socks5_messages.h"

#include <gtest/gtest.h>

#include "support/socks5_bytes.h"

namespace deputy::socks5 {
namespace {

using test::Bytes;

TEST(Socks5Messages, AGreetingIsReadOnlyWhenWhole) {
  const std::string greeting = Bytes({5, 2, 0, 2}) + "rest";
  Greeting out;
  size_t consumed = 0;
  Status error;
  for (size_t n = 0; n < 4; ++n) {
    EXPECT_EQ(ReadGreeting(std::string_view(greeting).substr(0, n), &out, &consumed, &error),
              Parsed::kNeedMore)
        << n;
  }
  ASSERT_EQ(ReadGreeting(greeting, &out, &consumed, &error), Parsed::kDone);
  EXPECT_EQ(consumed, 4u);
  EXPECT_EQ(out.methods, (std::vector<uint8_t>{0, 2}));
  EXPECT_EQ(ReadGreeting(Bytes({4, 1, 0}), &out, &consumed, &error), Parsed::kError);
  EXPECT_EQ(error.message(), "not a SOCKS 5 greeting (version byte 4)");
  EXPECT_EQ(ReadGreeting(Bytes({5, 0}), &out, &consumed, &error), Parsed::kError);
}

TEST(Socks5Messages, UserPassHoldsAnyPasswordButNoControlBytes) {
  UserPass out;
  size_t consumed = 0;
  Status error;
  const std::string message = Bytes({1, 5}) + "alice" + Bytes({6}) + "s:cr t";
  ASSERT_EQ(ReadUserPass(message + "x", &out, &consumed, &error), Parsed::kDone);
  EXPECT_EQ(consumed, message.size());
  EXPECT_EQ(out.user, "alice");
  EXPECT_EQ(out.password, "s:cr t");
  EXPECT_EQ(ReadUserPass(message.substr(0, message.size() - 1), &out, &consumed, &error),
            Parsed::kNeedMore);
  // The longest: 255-byte user and password, the longest message of all.
  const std::string longest =
      Bytes({1, 255}) + std::string(255, 'u') + Bytes({255}) + std::string(255, 'p');
  ASSERT_EQ(longest.size(), kMaxMessageBytes);
  ASSERT_EQ(ReadUserPass(longest, &out, &consumed, &error), Parsed::kDone);
  EXPECT_EQ(out.password, std::string(255, 'p'));
  EXPECT_EQ(ReadUserPass(Bytes({1, 0, 1}) + "p", &out, &consumed, &error), Parsed::kError);
  EXPECT_EQ(ReadUserPass(Bytes({1, 2, 'a', 10, 1, 'p'}), &out, &consumed, &error), Parsed::kError);
  EXPECT_EQ(ReadUserPass(Bytes({2, 1, 'a', 1, 'p'}), &out, &consumed, &error), Parsed::kError);
}

TEST(Socks5Messages, ARequestCarriesItsAddressTypeHostAndPort) {
  Request out;
  size_t consumed = 0;
  Status error;
  const std::string by_name = Bytes({5, 1, 0, 3, 11}) + "example.org" + Bytes({0x14, 0x66});
  ASSERT_EQ(ReadRequest(by_name + "early", &out, &consumed, &error), Parsed::kDone);
  EXPECT_EQ(consumed, by_name.size());
  EXPECT_EQ(out.command, 1);
  EXPECT_EQ(out.address_type, kAddressDomain);
  EXPECT_EQ(out.host, "example.org");
  EXPECT_EQ(out.port, 5222);
  ASSERT_EQ(ReadRequest(Bytes({5, 2, 0, 1, 10, 0, 0, 1, 0, 80}), &out, &consumed, &error),
            Parsed::kDone);
  EXPECT_EQ(out.address_type, kAddressIpv4);
  EXPECT_EQ(out.host, "");
  EXPECT_EQ(consumed, 10u);
  EXPECT_EQ(ReadRequest(Bytes({5, 1, 0, 4, 0}), &out, &consumed, &error), Parsed::kNeedMore);
  EXPECT_EQ(ReadRequest(Bytes({5, 1, 1, 3, 1, 'a', 0, 80}), &out, &consumed, &error),
            Parsed::kError);
  // An unknown address type is read up to the type, so the reply can say "not supported".
  ASSERT_EQ(ReadRequest(Bytes({5, 1, 0, 9, 1, 'a', 0, 80}), &out, &consumed, &error),
            Parsed::kDone);
  EXPECT_EQ(out.address_type, 9);
  EXPECT_EQ(consumed, 4u);
  EXPECT_EQ(ReadRequest(Bytes({5, 1, 0, 3, 0, 0, 80}), &out, &consumed, &error), Parsed::kError);
}

TEST(Socks5Messages, EveryRefusalHasItsReplyCode) {
  EXPECT_EQ(ReplyFor(ErrorCode::kPolicyDenied), Reply::kNotAllowed);
  EXPECT_EQ(ReplyFor(ErrorCode::kDestinationProhibited), Reply::kNotAllowed);
  EXPECT_EQ(ReplyFor(ErrorCode::kDenied), Reply::kNotAllowed);
  EXPECT_EQ(ReplyFor(ErrorCode::kDnsError), Reply::kHostUnreachable);
  EXPECT_EQ(ReplyFor(ErrorCode::kConnectionRefused), Reply::kConnectionRefused);
  EXPECT_EQ(ReplyFor(ErrorCode::kDnsTimeout), Reply::kTtlExpired);
  EXPECT_EQ(ReplyFor(ErrorCode::kConnectionTimeout), Reply::kTtlExpired);
  EXPECT_EQ(ReplyFor(ErrorCode::kLookupTimeout), Reply::kTtlExpired);
  EXPECT_EQ(ReplyFor(ErrorCode::kRequestTimeout), Reply::kTtlExpired);
  EXPECT_EQ(ReplyFor(ErrorCode::kTlsCertificateError), Reply::kGeneralFailure);
  EXPECT_EQ(ReplyFor(ErrorCode::kBadDocument), Reply::kGeneralFailure);
  EXPECT_EQ(RequestReply(Reply::kConnectionRefused), Bytes({5, 5, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(MethodChoice(kNoAcceptableMethod), Bytes({5, 0xff}));
  EXPECT_EQ(UserPassStatus(true), Bytes({1, 0}));
  EXPECT_EQ(UserPassStatus(false), Bytes({1, 1}));
}

}  // namespace
}  // namespace deputy::socks5
