#include "http/request_head_parser.h"

#include <gtest/gtest.h>

namespace deputy {
namespace {

using State = RequestHeadParser::State;

State FeedString(RequestHeadParser& parser, const std::string& text, Buffer* rest = nullptr) {
  Buffer input;
  input.Append(text);
  State state = parser.Feed(input);
  if (rest != nullptr) rest->MoveFrom(input);
  return state;
}

TEST(RequestHeadParserTest, ParsesConnectAndLeavesEarlyData) {
  RequestHeadParser parser(8192);
  Buffer rest;
  ASSERT_EQ(
      FeedString(parser, "CONNECT example.org:xmpp-client HTTP/1.1\r\nHost: a\r\n\r\n<stream>",
                 &rest),
      State::kComplete);
  EXPECT_EQ(parser.head().method, "CONNECT");
  EXPECT_EQ(parser.head().target, "example.org:xmpp-client");
  EXPECT_EQ(parser.head().version_minor, 1);
  ASSERT_EQ(parser.head().headers.size(), 1u);
  EXPECT_EQ(parser.head().headers[0].first, "Host");
  EXPECT_EQ(rest.ToString(), "<stream>");
}

TEST(RequestHeadParserTest, AcceptsHttp10ByteByByte) {
  RequestHeadParser parser(8192);
  std::string request = "CONNECT example.org:5222 HTTP/1.0\r\n\r\n";
  State state = State::kNeedMore;
  for (char c : request) {
    ASSERT_EQ(state, State::kNeedMore);
    state = FeedString(parser, std::string(1, c));
  }
  EXPECT_EQ(state, State::kComplete);
  EXPECT_EQ(parser.head().version_minor, 0);
  EXPECT_EQ(parser.head().target, "example.org:5222");
}

TEST(RequestHeadParserTest, GetIsParsedSoTheCallerCanRefuseIt) {
  RequestHeadParser parser(8192);
  ASSERT_EQ(FeedString(parser, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"), State::kComplete);
  EXPECT_EQ(parser.head().method, "GET");
}

TEST(RequestHeadParserTest, MalformedRequestIsBadRequest) {
  RequestHeadParser parser(8192);
  ASSERT_EQ(FeedString(parser, "NOT HTTP AT ALL\r\n\r\n"), State::kError);
  EXPECT_EQ(parser.error().code(), ErrorCode::kBadRequest);
}

TEST(RequestHeadParserTest, HeadOverLimitIsHeadersTooLarge) {
  RequestHeadParser parser(1024);
  std::string request =
      "CONNECT a.example:443 HTTP/1.1\r\nX-Big: " + std::string(2000, 'x') + "\r\n\r\n";
  ASSERT_EQ(FeedString(parser, request), State::kError);
  EXPECT_EQ(parser.error().code(), ErrorCode::kHeadersTooLarge);
}

TEST(RequestHeadParserTest, HeadExactlyAtLimitIsAccepted) {
  std::string request = "CONNECT a.example:443 HTTP/1.1\r\nX: y\r\n\r\n";
  RequestHeadParser parser(request.size());
  EXPECT_EQ(FeedString(parser, request + "tail"), State::kComplete);
  RequestHeadParser smaller(request.size() - 1);
  EXPECT_EQ(FeedString(smaller, request), State::kError);
}

TEST(RequestHeadParserTest, EndBeforeHeadIsBadRequest) {
  RequestHeadParser parser(8192);
  FeedString(parser, "CONNECT a.example:443 HTTP/1.1\r\n");
  EXPECT_EQ(parser.Finish(), State::kError);
  EXPECT_EQ(parser.error().code(), ErrorCode::kBadRequest);
}

TEST(RequestHeadParserTest, CrWithoutLfDoesNotEndTheHeadOrEatEarlyData) {
  RequestHeadParser parser(8192);
  Buffer rest;
  EXPECT_EQ(FeedString(parser, "CONNECT a.example:443 HTTP/1.1\r\nHost: x\r\n\rXearly", &rest),
            State::kError);
  EXPECT_EQ(parser.error().code(), ErrorCode::kBadRequest);
}

TEST(RequestHeadParserTest, RequestLineWithoutVersionIsRefused) {
  RequestHeadParser parser(8192);
  EXPECT_EQ(FeedString(parser, "CONNECT a.example:443\r\nHost: x\r\n\r\n"), State::kError);
  EXPECT_EQ(parser.error().code(), ErrorCode::kBadRequest);
}

}  // namespace
}  // namespace deputy
