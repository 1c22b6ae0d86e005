#pragma once

#include <openssl/ssl.h>

#include <string>
#include <vector>

namespace deputy {

// PeerIdentities are the URI subjectAltNames (SPIFFE IDs, first) and then the DNS
// subjectAltNames of the peer's certificate, when the handshake verified it against the trust
// anchors; otherwise none. A name with a byte outside printable ASCII (an embedded NUL above
// all) is skipped rather than shortened, so it can never pass for another; at most
// kMaxPeerIdentities names of at most kMaxPeerIdentityBytes each are taken.
std::vector<std::string> PeerIdentities(const SSL* ssl);

inline constexpr size_t kMaxPeerIdentities = 32;
inline constexpr size_t kMaxPeerIdentityBytes = 1024;

}  // namespace deputy
