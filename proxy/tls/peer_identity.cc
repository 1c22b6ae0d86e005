#include "tls/peer_identity.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>

namespace deputy {

namespace {

bool IsFitName(const ASN1_STRING* value, int type) {
  const unsigned char* bytes = ASN1_STRING_get0_data(value);
  const int length = ASN1_STRING_length(value);
  if (length <= 0 || static_cast<size_t>(length) > kMaxPeerIdentityBytes) return false;
  if (type == GEN_URI) {
    return std::all_of(bytes, bytes + length, [](unsigned char c) { return c > 0x20 && c < 0x7f; });
  }
  return std::all_of(bytes, bytes + length, [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '*';
  });
}

void Collect(const GENERAL_NAMES* names, int type, std::vector<std::string>* out) {
  for (size_t i = 0; i < sk_GENERAL_NAME_num(names) && out->size() < kMaxPeerIdentities; ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != type) continue;
    const ASN1_STRING* value =
        type == GEN_URI ? name->d.uniformResourceIdentifier : name->d.dNSName;
    if (!IsFitName(value, type)) continue;
    out->emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                      static_cast<size_t>(ASN1_STRING_length(value)));
  }
}

}  // namespace

bool HasVerifiedPeerCertificate(const SSL* ssl) {
  // The verify result is X509_V_OK also when no certificate came, hence both.
  return SSL_get0_peer_certificates(ssl) != nullptr &&
         sk_CRYPTO_BUFFER_num(SSL_get0_peer_certificates(ssl)) > 0 &&
         SSL_get_verify_result(ssl) == X509_V_OK;
}

std::vector<std::string> PeerIdentities(const SSL* ssl) {
  std::vector<std::string> identities;
  if (!HasVerifiedPeerCertificate(ssl)) return identities;
  bssl::UniquePtr<X509> leaf(SSL_get_peer_certificate(ssl));
  if (!leaf) return identities;
  bssl::UniquePtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(leaf.get(), NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return identities;
  Collect(names.get(), GEN_URI, &identities);
  Collect(names.get(), GEN_DNS, &identities);
  return identities;
}

}  // namespace deputy
