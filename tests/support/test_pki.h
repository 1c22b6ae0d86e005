#pragma once

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace deputy::test {

// Certificates are made at test time: EC P-256 keys, SHA-256 signatures.

struct CertOptions {
  // Subject alternative names; wildcards ("*.example.org", "xm*.example.org") are plain strings.
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // IPv4 or IPv6 literals
  bool expired = false;                   // valid from now-2d to now-1d
  bool not_yet_valid = false;             // valid from now+1d to now+2d
  bool is_ca = false;  // basicConstraints CA:TRUE, keyCertSign instead of serverAuth
  // Subject common name; empty means the first name above. With no names at all the
  // certificate has no subjectAltName, so only this common name could match.
  std::string common_name;
  std::vector<std::string> uris;  // URI names, e.g. SPIFFE IDs of client certificates
  // extendedKeyUsage clientAuth (a client certificate) instead of serverAuth.
  bool client_auth = false;
};

// KeyPair is a certificate (or a chain, leaf first) and its private key, both PEM.
struct KeyPair {
  std::string cert_pem;
  std::string key_pem;
};

// TestCa is a self-signed root that issues leaf certificates.
class TestCa {
 public:
  explicit TestCa(std::string common_name = "deputy test CA");
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  const std::string& cert_pem() const { return cert_pem_; }
  // Issue signs a certificate for `options` with this CA. Thread-safe.
  KeyPair Issue(const CertOptions& options) const;
  // SelfSigned makes a certificate for `options` signed by its own key, not by this CA.
  KeyPair SelfSigned(const CertOptions& options) const;
  // WriteCertFile writes the CA certificate to `dir`/ca-<n>.pem and returns the path.
  std::string WriteCertFile(const std::string& dir) const;

 private:
  bssl::UniquePtr<EVP_PKEY> key_;
  bssl::UniquePtr<X509> cert_;
  std::string cert_pem_;
};

// UseKeyPair makes `ctx` present `key_pair` (leaf first, then any chain); dies on bad PEM.
void UseKeyPair(SSL_CTX* ctx, const KeyPair& key_pair);

}  // namespace deputy::test
