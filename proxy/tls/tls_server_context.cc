#include "tls/tls_server_context.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <ctime>

#include "tls/tls_context.h"

namespace deputy {

namespace {

// How long a session with a verified client certificate may be resumed without verifying it
// again (BoringSSL's defaults: 2 hours for TLS 1.2, 7 days for TLS 1.3).
constexpr uint32_t kClientCertSessionSeconds = 3600;

Status FileError(const std::string& what, const std::string& file) {
  return Status(ErrorCode::kInvalidConfig,
                "cannot load " + what + " " + file + ": " + DrainSslErrors());
}

// KeyMismatch: the last failure was a private key that is not the certificate's.
bool KeyMismatch() {
  const uint32_t error = ERR_peek_last_error();
  return ERR_GET_LIB(error) == ERR_LIB_X509 && ERR_GET_REASON(error) == X509_R_KEY_VALUES_MISMATCH;
}

// ExpiryOf is `leaf`'s notAfter in seconds since the epoch, 0 if unreadable.
int64_t ExpiryOf(const X509* leaf) {
  int days = 0;
  int seconds = 0;
  // A null start means now.
  if (leaf == nullptr || !ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(leaf))) {
    return 0;
  }
  return static_cast<int64_t>(std::time(nullptr)) + int64_t{days} * 86400 + seconds;
}

}  // namespace

Result<TlsServerContext> TlsServerContext::Create(const TlsServerSettings& settings) {
  ERR_clear_error();
  bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_method()));
  if (!ctx) return Status(ErrorCode::kInternal, "SSL_CTX_new: " + DrainSslErrors());
  uint16_t version = settings.min_version == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (!SSL_CTX_set_min_proto_version(ctx.get(), version) ||
      !SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION)) {
    return Status(ErrorCode::kInternal, "cannot set TLS versions: " + DrainSslErrors());
  }
  if (!SSL_CTX_use_certificate_chain_file(ctx.get(), settings.cert_file.c_str())) {
    return FileError("certificate chain", settings.cert_file);
  }
  // BoringSSL compares the key with the certificate as it takes the key.
  if (!SSL_CTX_use_PrivateKey_file(ctx.get(), settings.key_file.c_str(), SSL_FILETYPE_PEM) ||
      !SSL_CTX_check_private_key(ctx.get())) {
    if (!KeyMismatch()) return FileError("private key", settings.key_file);
    return Status(ErrorCode::kInvalidConfig, "private key " + settings.key_file +
                                                 " does not match the certificate in " +
                                                 settings.cert_file + ": " + DrainSslErrors());
  }
  if (!settings.client_ca_file.empty()) {
    if (!SSL_CTX_load_verify_locations(ctx.get(), settings.client_ca_file.c_str(), nullptr)) {
      return FileError("client CA file", settings.client_ca_file);
    }
    // The CA names go into the CertificateRequest, so a client with several certificates
    // (curl, browsers) picks one these CAs issued.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(settings.client_ca_file.c_str());
    if (names == nullptr) return FileError("client CA names from", settings.client_ca_file);
    SSL_CTX_set_client_CA_list(ctx.get(), names);
    // A resumed session skips verification, so it keeps its identities only this long.
    SSL_CTX_set_timeout(ctx.get(), kClientCertSessionSeconds);
    SSL_CTX_set_session_psk_dhe_timeout(ctx.get(), kClientCertSessionSeconds);
    SSL_CTX_set_verify(
        ctx.get(),
        SSL_VERIFY_PEER | (settings.require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
        nullptr);
  }
  const int64_t not_after = ExpiryOf(SSL_CTX_get0_certificate(ctx.get()));
  return TlsServerContext(std::move(ctx), not_after);
}

}  // namespace deputy
