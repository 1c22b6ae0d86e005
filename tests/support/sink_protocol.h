#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace deputy::test {

// The little protocol a TunnelSwarm client speaks, through deputy, with a TlsSinkServer: the
// client's first bytes are a fixed-size preamble naming the tunnel, how many bytes the server
// must send back, and which side ends its sending direction first. Everything after it is
// payload. Both ends hash all they send and receive, so a test can prove no byte was lost,
// added or reordered in either direction.

// CloseOrder says which side half-closes first.
enum class CloseOrder : uint8_t {
  // The client sends everything and half-closes; the server replies only after that end.
  kClientFirst = 0,
  // The server replies and half-closes right after the preamble; the client sends its payload
  // only after it has read the server's end.
  kUpstreamFirst = 1,
  // Both send at once and half-close when done, neither waiting for the other.
  kTogether = 2,
};

struct SinkPreamble {
  uint64_t id = 0;
  uint32_t reply_bytes = 0;
  CloseOrder order = CloseOrder::kClientFirst;
};

inline constexpr size_t kSinkPreambleSize = 16;

// EncodePreamble is the 16 bytes: "DSNK", id (8 bytes), order (1), reply_bytes (3, < 16 MiB),
// all big-endian.
std::string EncodePreamble(const SinkPreamble& preamble);
// DecodePreamble parses the first kSinkPreambleSize bytes; nullopt if they are not a preamble.
std::optional<SinkPreamble> DecodePreamble(std::string_view bytes);

const char* CloseOrderName(CloseOrder order);

}  // namespace deputy::test
