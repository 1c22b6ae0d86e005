#include "http/response_parser.h"

#include <gtest/gtest.h>

namespace deputy {
namespace {

using State = ResponseParser::State;

State FeedString(ResponseParser& parser, const std::string& text) {
  Buffer input;
  input.Append(text);
  return parser.Feed(input);
}

TEST(ResponseParserTest, ContentLengthBody) {
  ResponseParser parser(4096, 100);
  ASSERT_EQ(
      FeedString(parser,
                 "HTTP/1.1 200 OK\r\nCache-Control: max-age=5\r\nContent-Length: 2\r\n\r\n[]"),
      State::kComplete);
  EXPECT_EQ(parser.response().status, 200);
  EXPECT_EQ(parser.response().body, "[]");
  EXPECT_EQ(parser.response().Header("cache-control"), "max-age=5");
  EXPECT_EQ(parser.response().Header("expires"), "");
}

TEST(ResponseParserTest, ChunkedBody) {
  ResponseParser parser(4096, 100);
  ASSERT_EQ(FeedString(parser,
                       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n"),
            State::kComplete);
  EXPECT_EQ(parser.response().body, "[]");
}

TEST(ResponseParserTest, BodyUntilCloseCompletesOnFinish) {
  ResponseParser parser(4096, 100);
  ASSERT_EQ(FeedString(parser, "HTTP/1.1 200 OK\r\n\r\n[1]"), State::kNeedMore);
  EXPECT_EQ(parser.Finish(), State::kComplete);
  EXPECT_EQ(parser.response().body, "[1]");
}

TEST(ResponseParserTest, AnnouncedLengthOverLimitFailsBeforeTheBody) {
  ResponseParser parser(4096, 100);
  ASSERT_EQ(FeedString(parser, "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n"),
            State::kError);
  EXPECT_EQ(parser.error().code(), ErrorCode::kDocumentTooLarge);
}

TEST(ResponseParserTest, StreamedBodyOverLimitFails) {
  ResponseParser parser(4096, 100);
  ASSERT_EQ(FeedString(parser, "HTTP/1.1 200 OK\r\n\r\n" + std::string(101, 'x')), State::kError);
  EXPECT_EQ(parser.error().code(), ErrorCode::kDocumentTooLarge);
}

TEST(ResponseParserTest, TruncatedBodyIsAnError) {
  ResponseParser parser(4096, 100);
  FeedString(parser, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n[]");
  EXPECT_EQ(parser.Finish(), State::kError);
  EXPECT_EQ(parser.error().code(), ErrorCode::kResponseIncomplete);
  EXPECT_EQ(parser.error().message(), "connection closed after 2 bytes of the response body");
}

TEST(ResponseParserTest, ConnectionClosedInsideTheHeadIsAProtocolError) {
  ResponseParser parser(4096, 100);
  FeedString(parser, "HTTP/1.1 200 OK\r\nContent-Len");
  EXPECT_EQ(parser.Finish(), State::kError);
  EXPECT_EQ(parser.error().code(), ErrorCode::kHttpProtocolError);
}

TEST(ResponseParserTest, GarbageIsAProtocolError) {
  ResponseParser parser(4096, 100);
  EXPECT_EQ(FeedString(parser, "SSH-2.0-OpenSSH\r\n"), State::kError);
  EXPECT_EQ(parser.error().code(), ErrorCode::kHttpProtocolError);
}

TEST(ResponseParserTest, HugeHeadIsRefused) {
  ResponseParser parser(1024, 100);
  EXPECT_EQ(FeedString(parser, "HTTP/1.1 200 OK\r\nX: " + std::string(2000, 'a')), State::kError);
}

}  // namespace
// RFC 9110 15.2: a client must accept 1xx responses before the final one, even unasked.
TEST(ResponseParserTest, InterimResponseBeforeTheFinalOneIsSkipped) {
  ResponseParser parser(4096, 100);
  State state = FeedString(parser,
                           "HTTP/1.1 100 Continue\r\n\r\n"
                           "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]");
  EXPECT_EQ(state, State::kComplete);
  EXPECT_EQ(parser.response().status, 200);
  EXPECT_EQ(parser.response().body, "[]");
}

TEST(ResponseParserTest, EarlyHintsBeforeTheFinalResponseAreSkipped) {
  ResponseParser parser(4096, 100);
  State state = FeedString(parser,
                           "HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n"
                           "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(state, State::kComplete);
  EXPECT_EQ(parser.response().status, 404);
}

// Trailer fields after a chunked body are head-like data a hostile server can stream forever;
// they must count against a limit like the head does.
TEST(ResponseParserTest, ChunkedTrailersAreBounded) {
  ResponseParser parser(4096, 100);
  ASSERT_EQ(
      FeedString(parser, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n"),
      State::kNeedMore);
  std::string trailers;
  for (int i = 0; i < 1000; ++i) trailers += "X-Trailer-" + std::to_string(i) + ": value\r\n";
  State state = State::kNeedMore;
  size_t fed = 0;
  for (int round = 0; round < 64 && state == State::kNeedMore; ++round) {
    state = FeedString(parser, trailers);
    fed += trailers.size();
  }
  // About 1.5 MiB of trailers against a 4 KiB head limit.
  EXPECT_EQ(state, State::kError) << fed << " bytes of trailers were accepted";
}

}  // namespace deputy
