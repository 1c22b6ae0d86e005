#include "support/test_pki.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <utility>

#include "support/die.h"

namespace deputy::test {

namespace {

constexpr long kHour = 3600;
constexpr long kDay = 24 * kHour;

bssl::UniquePtr<EVP_PKEY> NewKey() {
  bssl::UniquePtr<EC_KEY> ec(EC_KEY_new_by_curve_name(NID_X9_62_prime256v1));
  if (!ec || !EC_KEY_generate_key(ec.get())) DieSsl("EC key generation");
  bssl::UniquePtr<EVP_PKEY> key(EVP_PKEY_new());
  if (!key || !EVP_PKEY_assign_EC_KEY(key.get(), ec.release())) DieSsl("EVP_PKEY_assign_EC_KEY");
  return key;
}

void SetRandomSerial(X509* cert) {
  uint8_t bytes[16];
  RAND_bytes(bytes, sizeof(bytes));
  bytes[0] &= 0x7f;  // a serial number must be positive
  bytes[0] |= 0x01;  // and encoded in its full length
  bssl::UniquePtr<BIGNUM> bn(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert))) DieSsl("serial");
}

void SetValidity(X509* cert, const CertOptions& options) {
  long from = -kHour;
  long to = kDay;
  if (options.expired) {
    from = -2 * kDay;
    to = -kDay;
  } else if (options.not_yet_valid) {
    from = kDay;
    to = 2 * kDay;
  }
  if (!X509_gmtime_adj(X509_getm_notBefore(cert), from) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert), to)) {
    DieSsl("validity");
  }
}

void SetCommonName(X509_NAME* name, const std::string& common_name) {
  if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                  reinterpret_cast<const uint8_t*>(common_name.data()),
                                  static_cast<int>(common_name.size()), -1, 0)) {
    DieSsl("subject name");
  }
}

// AddExtension adds an extension written in OpenSSL's configuration syntax; `issuer` must
// already carry its subject key identifier when `value` asks for the authority key identifier.
void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509V3_set_ctx_nodb(&ctx);
  bssl::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext || !X509_add_ext(cert, ext.get(), -1)) DieSsl(std::string("extension ") + value);
}

// AddSubjectAltNames builds the names directly, because the configuration syntax would reject
// the deliberately odd names some tests need.
void AddSubjectAltNames(X509* cert, const CertOptions& options) {
  if (options.dns_names.empty() && options.ip_addresses.empty() && options.uris.empty()) return;
  bssl::UniquePtr<GENERAL_NAMES> names(sk_GENERAL_NAME_new_null());
  for (const std::string& dns : options.dns_names) {
    bssl::UniquePtr<ASN1_IA5STRING> value(ASN1_IA5STRING_new());
    if (!value || !ASN1_STRING_set(value.get(), dns.data(), static_cast<int>(dns.size()))) {
      DieSsl("dNSName");
    }
    bssl::UniquePtr<GENERAL_NAME> name(GENERAL_NAME_new());
    GENERAL_NAME_set0_value(name.get(), GEN_DNS, value.release());
    if (!bssl::PushToStack(names.get(), std::move(name))) DieSsl("dNSName");
  }
  for (const std::string& uri : options.uris) {
    bssl::UniquePtr<ASN1_IA5STRING> value(ASN1_IA5STRING_new());
    if (!value || !ASN1_STRING_set(value.get(), uri.data(), static_cast<int>(uri.size()))) {
      DieSsl("uniformResourceIdentifier");
    }
    bssl::UniquePtr<GENERAL_NAME> name(GENERAL_NAME_new());
    GENERAL_NAME_set0_value(name.get(), GEN_URI, value.release());
    if (!bssl::PushToStack(names.get(), std::move(name))) DieSsl("uniformResourceIdentifier");
  }
  for (const std::string& ip : options.ip_addresses) {
    bssl::UniquePtr<ASN1_OCTET_STRING> value(a2i_IPADDRESS(ip.c_str()));
    if (!value) Die("not an IP address: " + ip);
    bssl::UniquePtr<GENERAL_NAME> name(GENERAL_NAME_new());
    GENERAL_NAME_set0_value(name.get(), GEN_IPADD, value.release());
    if (!bssl::PushToStack(names.get(), std::move(name))) DieSsl("iPAddress");
  }
  if (!X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT)) {
    DieSsl("subjectAltName");
  }
}

std::string CertToPem(X509* cert) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_X509(bio.get(), cert)) DieSsl("PEM_write_bio_X509");
  const uint8_t* data;
  size_t len;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

std::string KeyToPem(EVP_PKEY* key) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) {
    DieSsl("PEM_write_bio_PrivateKey");
  }
  const uint8_t* data;
  size_t len;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

std::string LeafCommonName(const CertOptions& options) {
  if (!options.common_name.empty()) return options.common_name;
  if (!options.dns_names.empty()) return options.dns_names.front();
  if (!options.ip_addresses.empty()) return options.ip_addresses.front();
  if (!options.uris.empty()) return options.uris.front();
  return "deputy test certificate";
}

// MakeCert builds a certificate for `key`'s public half. With no issuer it is self-signed.
bssl::UniquePtr<X509> MakeCert(EVP_PKEY* key, const std::string& common_name,
                               const CertOptions& options, X509* issuer_cert,
                               EVP_PKEY* issuer_key) {
  bssl::UniquePtr<X509> cert(X509_new());
  if (!cert || !X509_set_version(cert.get(), X509_VERSION_3)) DieSsl("X509_new");
  SetRandomSerial(cert.get());
  SetValidity(cert.get(), options);
  SetCommonName(X509_get_subject_name(cert.get()), common_name);
  X509* issuer = issuer_cert != nullptr ? issuer_cert : cert.get();
  if (!X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer)) ||
      !X509_set_pubkey(cert.get(), key)) {
    DieSsl("issuer or public key");
  }
  if (options.is_ca) {
    AddExtension(cert.get(), issuer, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert.get(), issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(cert.get(), issuer, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert.get(), issuer, NID_key_usage, "critical,digitalSignature");
    AddExtension(cert.get(), issuer, NID_ext_key_usage,
                 options.client_auth ? "clientAuth" : "serverAuth");
  }
  AddExtension(cert.get(), issuer, NID_subject_key_identifier, "hash");
  AddExtension(cert.get(), issuer, NID_authority_key_identifier, "keyid:always");
  AddSubjectAltNames(cert.get(), options);
  if (!X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256())) {
    DieSsl("X509_sign");
  }
  return cert;
}

}  // namespace

TestCa::TestCa(std::string common_name) : key_(NewKey()) {
  CertOptions options;
  options.is_ca = true;
  cert_ = MakeCert(key_.get(), common_name, options, nullptr, nullptr);
  cert_pem_ = CertToPem(cert_.get());
}

TestCa::~TestCa() = default;

KeyPair TestCa::Issue(const CertOptions& options) const {
  bssl::UniquePtr<EVP_PKEY> key = NewKey();
  bssl::UniquePtr<X509> cert =
      MakeCert(key.get(), LeafCommonName(options), options, cert_.get(), key_.get());
  return {CertToPem(cert.get()), KeyToPem(key.get())};
}

KeyPair TestCa::SelfSigned(const CertOptions& options) const {
  bssl::UniquePtr<EVP_PKEY> key = NewKey();
  bssl::UniquePtr<X509> cert =
      MakeCert(key.get(), LeafCommonName(options), options, nullptr, nullptr);
  return {CertToPem(cert.get()), KeyToPem(key.get())};
}

std::string TestCa::WriteCertFile(const std::string& dir) const {
  // Numbered, so several CAs can share one directory.
  static std::atomic<int> counter{0};
  std::string path = dir + "/ca-" + std::to_string(counter++) + ".pem";
  WriteFileOrDie(path, cert_pem_);
  return path;
}

void UseKeyPair(SSL_CTX* ctx, const KeyPair& key_pair) {
  bssl::UniquePtr<BIO> certs(
      BIO_new_mem_buf(key_pair.cert_pem.data(), static_cast<int>(key_pair.cert_pem.size())));
  bssl::UniquePtr<X509> leaf(PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr));
  if (!leaf || !SSL_CTX_use_certificate(ctx, leaf.get())) DieSsl("certificate");
  while (bssl::UniquePtr<X509> extra{PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr)}) {
    if (!SSL_CTX_add1_chain_cert(ctx, extra.get())) DieSsl("certificate chain");
  }
  ERR_clear_error();  // the read that ends the loop leaves "no start line" behind
  bssl::UniquePtr<BIO> key_bio(
      BIO_new_mem_buf(key_pair.key_pem.data(), static_cast<int>(key_pair.key_pem.size())));
  bssl::UniquePtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key || !SSL_CTX_use_PrivateKey(ctx, key.get()) || !SSL_CTX_check_private_key(ctx)) {
    DieSsl("private key");
  }
}

}  // namespace deputy::test
