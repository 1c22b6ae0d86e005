#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "support/sink_protocol.h"
#include "support/wait.h"

namespace deputy::test {

// TunnelPlan is one client of a swarm: a CONNECT through deputy to a TlsSinkServer, then the
// sink protocol (support/sink_protocol.h).
struct TunnelPlan {
  uint64_t id = 0;
  std::string authority;     // CONNECT target, e.g. "example.org:xmpp-client"
  size_t payload_bytes = 0;  // random bytes the client sends after its preamble
  uint32_t reply_bytes = 0;  // random bytes the sink sends back
  CloseOrder order = CloseOrder::kClientFirst;
  bool early_data = false;  // send the preamble in the same write as the CONNECT head
};

// TunnelOutcome is how one plan went, from the client's side.
struct TunnelOutcome {
  uint64_t id = 0;
  int status = 0;            // status of deputy's response; 0 if none arrived
  std::string proxy_status;  // its Proxy-Status header, if any
  uint64_t sent_bytes = 0;   // tunnel bytes written (preamble + payload)
  std::string sent_sha256;
  uint64_t received_bytes = 0;  // tunnel bytes read after the response head
  std::string received_sha256;
  double setup_ms = 0;  // from connect() to the end of the response head
  // Empty when a 200 tunnel ended cleanly both ways (FIN each way, no reset), or a refusal was
  // read up to deputy's close; otherwise what went wrong.
  std::string error;
};

// RunTunnels runs every plan against deputy's CONNECT listener on 127.0.0.1:`port`, keeping
// `concurrency` of them in flight at once (a plan starts as soon as another ends), on a libuv
// loop in the calling thread. Writes go out in chunks of random size. Every plan not done when
// `timeout` passes fails with the state it was in. Returns one outcome per plan, in plan order.
std::vector<TunnelOutcome> RunTunnels(uint16_t port, const std::vector<TunnelPlan>& plans,
                                      size_t concurrency, Millis timeout);

}  // namespace deputy::test
