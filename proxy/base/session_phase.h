#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace deputy {

// The phases of one client session, in the order it can pass them; each is a metric label and
// a key of the access log's "phase_ms".
enum class SessionPhase : uint8_t {
  kHandshake,  // the PROXY header and the client's TLS handshake, on listeners that have them
  kRequest,    // the frontend reads the request (and checks credentials)
  kLookup,     // waiting for the delegation lookup
  kConnect,    // resolving, connecting to and verifying targets
  kTunnel,     // splicing bytes
  kClosing,    // refused: the client reads the answer before the close
};
inline constexpr size_t kSessionPhases = 6;

constexpr std::string_view SessionPhaseName(SessionPhase phase) {
  switch (phase) {
    case SessionPhase::kHandshake:
      return "handshake";
    case SessionPhase::kRequest:
      return "request";
    case SessionPhase::kLookup:
      return "lookup";
    case SessionPhase::kConnect:
      return "connect";
    case SessionPhase::kTunnel:
      return "tunnel";
    case SessionPhase::kClosing:
      return "closing";
  }
  return "request";
}

}  // namespace deputy
