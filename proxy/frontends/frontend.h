#pragma once

#include <functional>
#include <optional>
#include <string>

#include "base/buffer.h"
#include "base/status.h"
#include "net/byte_stream.h"
#include "net/ip_network.h"

namespace deputy {

// Destination is what a client asked for: a domain and a service. `service` is empty when the
// client named only a port that maps to no service name; `port` is the port a direct fallback
// connects to, when one is known.
struct Destination {
  std::string domain;
  std::string service;
  std::optional<uint16_t> port;
};

// ClientRequest is what a frontend learned from its client: where to go, and as whom.
struct ClientRequest {
  Destination destination;
  std::string user;  // the authenticated proxy user; empty when the listener has no auth
};

// Frontend is the client-facing protocol of a listener: it learns the Destination from the
// client and tells the client how the tunnel attempt ended.
class Frontend {
 public:
  using ReadyCallback = std::function<void(Result<ClientRequest>)>;

  virtual ~Frontend() = default;
  // Start reads the client's request; bytes that follow it are left in `early_data`. `ready`
  // runs once: from the loop, or inside Start when `early_data` already holds the request
  // (bytes that came with a PROXY protocol header). `client_ip` is whom the request comes
  // from, for authentication.
  virtual void Start(ByteStream& client, const std::optional<IpAddress>& client_ip,
                     Buffer& early_data, ReadyCallback ready) = 0;
  // Established tells the client that the verified tunnel is up.
  virtual void Established(ByteStream& client) = 0;
  // Refuse tells the client why it gets no tunnel; returns whether it wrote a response (which
  // the session then lets the client read before closing).
  virtual bool Refuse(ByteStream& client, const Status& status) = 0;
  // Stop cancels a pending Start.
  virtual void Stop() {}
};

}  // namespace deputy
