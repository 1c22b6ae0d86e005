// Fuzzes ParseProxyHeader, which reads the first bytes of every connection on a listener with
// proxy_protocol (from a load balancer, or from anything that reaches its address). The whole
// input is what the peer sent.

#include <string_view>

#include "fuzz/fuzzer.h"
#include "net/proxy_header.h"

namespace deputy::fuzz::proxy_header {

DEPUTY_FUZZER(proxy_header) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ProxyHeader header;
  size_t consumed = 0;
  Status error;
  const ProxyHeaderParse parsed = ParseProxyHeader(bytes, &header, &consumed, &error);
  if (parsed == ProxyHeaderParse::kError) {
    DEPUTY_FUZZ_CHECK(error.code() == ErrorCode::kBadRequest);
    DEPUTY_FUZZ_CHECK(IsPrintableAscii(error.message()));
    return;
  }
  if (parsed == ProxyHeaderParse::kNeedMore) {
    // Waiting is bounded: a peer cannot keep deputy reading a header forever.
    DEPUTY_FUZZ_CHECK(bytes.size() < kMaxProxyHeaderBytes);
    return;
  }
  DEPUTY_FUZZ_CHECK(consumed > 0 && consumed <= bytes.size() && consumed <= kMaxProxyHeaderBytes);
  if (header.source) {
    const int family = header.source->storage.ss_family;
    DEPUTY_FUZZ_CHECK(family == AF_INET || family == AF_INET6);
    DEPUTY_FUZZ_CHECK(IsPrintableAscii(header.source->ToString()));
  }
  // The header alone reads the same as the header with the client's bytes behind it.
  ProxyHeader alone;
  size_t alone_consumed = 0;
  DEPUTY_FUZZ_CHECK(ParseProxyHeader(bytes.substr(0, consumed), &alone, &alone_consumed, &error) ==
                        ProxyHeaderParse::kDone &&
                    alone_consumed == consumed &&
                    alone.source.has_value() == header.source.has_value());
}

}  // namespace deputy::fuzz::proxy_header
