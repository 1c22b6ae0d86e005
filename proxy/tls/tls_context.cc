#include "tls/tls_context.h"

#include <openssl/err.h>

namespace deputy {

std::string DrainSslErrors() {
  uint32_t first = ERR_get_error();
  ERR_clear_error();
  if (first == 0) return "unknown TLS error";
  char text[256];
  ERR_error_string_n(first, text, sizeof(text));
  return text;
}

Result<TlsClientContext> TlsClientContext::Create(const std::string& ca_file,
                                                  TlsVersion min_version, const std::string& alpn) {
  bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_method()));
  if (!ctx) return Status(ErrorCode::kInternal, "SSL_CTX_new: " + DrainSslErrors());
  uint16_t version = min_version == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (!SSL_CTX_set_min_proto_version(ctx.get(), version) ||
      !SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION)) {
    return Status(ErrorCode::kInternal, "cannot set TLS versions: " + DrainSslErrors());
  }
  if (!SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr)) {
    return Status(ErrorCode::kInvalidConfig,
                  "cannot load CA file " + ca_file + ": " + DrainSslErrors());
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (!alpn.empty()) {
    std::string wire(1, static_cast<char>(alpn.size()));
    wire += alpn;
    if (SSL_CTX_set_alpn_protos(ctx.get(), reinterpret_cast<const uint8_t*>(wire.data()),
                                wire.size()) != 0) {
      return Status(ErrorCode::kInternal, "cannot set ALPN: " + DrainSslErrors());
    }
  }
  return TlsClientContext(std::move(ctx));
}

}  // namespace deputy
