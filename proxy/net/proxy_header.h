#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "base/status.h"
#include "net/address.h"

namespace deputy {

// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) that a load
// balancer sends before the client's own bytes, to say whom the connection is really from.
struct ProxyHeader {
  // The client as the load balancer saw it; empty for a v1 "UNKNOWN" or a v2 LOCAL header (a
  // health check from the balancer itself), when the connection's own peer stands.
  std::optional<IpEndpoint> source;
};

// The longest header deputy reads: a v1 line is at most 107 bytes; a v2 header is 16 bytes
// plus its addresses and TLVs, which deputy bounds well above what balancers send.
inline constexpr size_t kMaxProxyHeaderBytes = 16 + 2048;

enum class ProxyHeaderParse { kNeedMore, kDone, kError };

// ParseProxyHeader reads a header from the front of `bytes`: kDone sets `*out` and
// `*consumed` (the bytes after it are the client's); kError sets `*error` (kBadRequest).
ProxyHeaderParse ParseProxyHeader(std::string_view bytes, ProxyHeader* out, size_t* consumed,
                                  Status* error);

}  // namespace deputy
