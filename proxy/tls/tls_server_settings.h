#pragma once

#include <string>

#include "tls/tls_version.h"

namespace deputy {

// What a listener that speaks TLS to its clients presents and accepts. It lives apart from
// tls_server_context.h so that config/ names it without BoringSSL.
struct TlsServerSettings {
  std::string cert_file;       // PEM chain, leaf first
  std::string key_file;        // PEM private key of the leaf
  std::string client_ca_file;  // PEM trust anchors for client certificates; empty: none asked
  // With a client CA: whether a client without a certificate is refused (the default) or let
  // through without identities.
  bool require_client_cert = true;
  TlsVersion min_version = TlsVersion::kTls12;
};

}  // namespace deputy
