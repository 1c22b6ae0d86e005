#pragma once

#include <openssl/ssl.h>

#include <string>
#include <vector>

namespace deputy {

// HasVerifiedPeerCertificate: the peer presented a certificate and it verified.
bool HasVerifiedPeerCertificate(const SSL* ssl);

// PeerIdentities are the URI subjectAltNames (SPIFFE IDs, first) and then the DNS
// subjectAltNames of the peer's certificate, when the handshake verified it against the trust
// anchors; otherwise none. A name is skipped rather than shortened, so it can never pass for
// another, when a URI has a byte outside printable ASCII (an embedded NUL above all) or a DNS
// name is not hostname-shaped (letters, digits, '-', '.', '_', '*'), so no DNS name can read
// as a SPIFFE ID. At most kMaxPeerIdentities names of at most kMaxPeerIdentityBytes each.
std::vector<std::string> PeerIdentities(const SSL* ssl);

inline constexpr size_t kMaxPeerIdentities = 32;
inline constexpr size_t kMaxPeerIdentityBytes = 1024;

}  // namespace deputy
