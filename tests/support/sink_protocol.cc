#include "support/sink_protocol.h"

namespace deputy::test {

namespace {

constexpr std::string_view kMagic = "DSNK";
constexpr uint32_t kMaxReplyBytes = (1u << 24) - 1;

void PutBigEndian(std::string& out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

uint64_t GetBigEndian(std::string_view in, size_t offset, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | static_cast<uint8_t>(in[offset + i]);
  return value;
}

}  // namespace

std::string EncodePreamble(const SinkPreamble& preamble) {
  std::string out(kMagic);
  PutBigEndian(out, preamble.id, 8);
  PutBigEndian(out, static_cast<uint8_t>(preamble.order), 1);
  PutBigEndian(out, preamble.reply_bytes & kMaxReplyBytes, 3);
  return out;
}

std::optional<SinkPreamble> DecodePreamble(std::string_view bytes) {
  if (bytes.size() < kSinkPreambleSize || bytes.substr(0, kMagic.size()) != kMagic) {
    return std::nullopt;
  }
  SinkPreamble preamble;
  preamble.id = GetBigEndian(bytes, 4, 8);
  uint64_t order = GetBigEndian(bytes, 12, 1);
  if (order > static_cast<uint8_t>(CloseOrder::kTogether)) return std::nullopt;
  preamble.order = static_cast<CloseOrder>(order);
  preamble.reply_bytes = static_cast<uint32_t>(GetBigEndian(bytes, 13, 3));
  return preamble;
}

const char* CloseOrderName(CloseOrder order) {
  switch (order) {
    case CloseOrder::kClientFirst:
      return "client-first";
    case CloseOrder::kUpstreamFirst:
      return "upstream-first";
    case CloseOrder::kTogether:
      return "together";
  }
  return "?";
}

}  // namespace deputy::test
