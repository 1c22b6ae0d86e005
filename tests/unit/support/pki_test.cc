#include "support/test_pki.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>

namespace deputy::test {
namespace {

bssl::UniquePtr<X509> ParseCert(const std::string& pem) {
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return bssl::UniquePtr<X509>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// Verify checks `leaf_pem` against `ca_pem` for `name` (a DNS name or, with `ip`, an address)
// the way a TLS client would, and returns the X509_V_* result.
int Verify(const std::string& ca_pem, const std::string& leaf_pem, const std::string& name,
           bool ip = false) {
  bssl::UniquePtr<X509> ca = ParseCert(ca_pem);
  bssl::UniquePtr<X509> leaf = ParseCert(leaf_pem);
  if (!ca || !leaf) return -1;
  bssl::UniquePtr<X509_STORE> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.get());
  bssl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  if (ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, name.data(), name.size());
  }
  if (X509_verify_cert(ctx.get()) == 1) return X509_V_OK;
  return X509_STORE_CTX_get_error(ctx.get());
}

CertOptions Names(std::vector<std::string> dns) {
  CertOptions options;
  options.dns_names = std::move(dns);
  return options;
}

TEST(TestPki, IssuedCertificateVerifiesForItsName) {
  TestCa ca;
  KeyPair pair = ca.Issue(Names({"example.com", "xmpp.example.com"}));
  EXPECT_EQ(Verify(ca.cert_pem(), pair.cert_pem, "example.com"), X509_V_OK);
  EXPECT_EQ(Verify(ca.cert_pem(), pair.cert_pem, "xmpp.example.com"), X509_V_OK);
  EXPECT_NE(pair.key_pem.find("PRIVATE KEY"), std::string::npos);
}

TEST(TestPki, IssuedCertificateFailsForAnotherName) {
  TestCa ca;
  KeyPair pair = ca.Issue(Names({"example.com"}));
  EXPECT_EQ(Verify(ca.cert_pem(), pair.cert_pem, "example.net"), X509_V_ERR_HOSTNAME_MISMATCH);
}

TEST(TestPki, WildcardCoversExactlyOneLabel) {
  TestCa ca;
  KeyPair pair = ca.Issue(Names({"*.example.org"}));
  EXPECT_EQ(Verify(ca.cert_pem(), pair.cert_pem, "xmpp.example.org"), X509_V_OK);
  EXPECT_EQ(Verify(ca.cert_pem(), pair.cert_pem, "a.b.example.org"), X509_V_ERR_HOSTNAME_MISMATCH);
}

TEST(TestPki, PartialWildcardIsCarriedAsGiven) {
  TestCa ca;
  KeyPair pair = ca.Issue(Names({"xm*.example.org"}));
  bssl::UniquePtr<X509> cert = ParseCert(pair.cert_pem);
  ASSERT_TRUE(cert);
  bssl::UniquePtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  ASSERT_TRUE(names);
  ASSERT_EQ(sk_GENERAL_NAME_num(names.get()), 1u);
  const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), 0);
  ASSERT_EQ(name->type, GEN_DNS);
  std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
                    ASN1_STRING_length(name->d.dNSName));
  EXPECT_EQ(value, "xm*.example.org");
}

TEST(TestPki, IpAddressSubjectAltName) {
  TestCa ca;
  CertOptions options;
  options.ip_addresses = {"127.0.0.1", "::1"};
  KeyPair pair = ca.Issue(options);
  EXPECT_EQ(Verify(ca.cert_pem(), pair.cert_pem, "127.0.0.1", /*ip=*/true), X509_V_OK);
  EXPECT_EQ(Verify(ca.cert_pem(), pair.cert_pem, "::1", /*ip=*/true), X509_V_OK);
  EXPECT_EQ(Verify(ca.cert_pem(), pair.cert_pem, "127.0.0.2", /*ip=*/true),
            X509_V_ERR_IP_ADDRESS_MISMATCH);
}

TEST(TestPki, ValidityWindows) {
  TestCa ca;
  CertOptions expired = Names({"example.com"});
  expired.expired = true;
  CertOptions early = Names({"example.com"});
  early.not_yet_valid = true;
  EXPECT_EQ(Verify(ca.cert_pem(), ca.Issue(expired).cert_pem, "example.com"),
            X509_V_ERR_CERT_HAS_EXPIRED);
  EXPECT_EQ(Verify(ca.cert_pem(), ca.Issue(early).cert_pem, "example.com"),
            X509_V_ERR_CERT_NOT_YET_VALID);
}

TEST(TestPki, SelfSignedAndForeignCertificatesDoNotChain) {
  TestCa ca;
  TestCa other("another CA");
  KeyPair self_signed = ca.SelfSigned(Names({"example.com"}));
  bssl::UniquePtr<X509> cert = ParseCert(self_signed.cert_pem);
  ASSERT_TRUE(cert);
  bssl::UniquePtr<EVP_PKEY> own_key(X509_get_pubkey(cert.get()));
  EXPECT_EQ(X509_verify(cert.get(), own_key.get()), 1);
  EXPECT_NE(Verify(ca.cert_pem(), self_signed.cert_pem, "example.com"), X509_V_OK);
  EXPECT_EQ(Verify(ca.cert_pem(), other.Issue(Names({"example.com"})).cert_pem, "example.com"),
            X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
}

TEST(TestPki, CaIsACaAndLeavesAreNot) {
  TestCa ca;
  bssl::UniquePtr<X509> root = ParseCert(ca.cert_pem());
  bssl::UniquePtr<X509> leaf = ParseCert(ca.Issue(Names({"example.com"})).cert_pem);
  ASSERT_TRUE(root && leaf);
  EXPECT_EQ(X509_check_ca(root.get()), 1);
  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  EXPECT_EQ(X509_check_issued(root.get(), leaf.get()), X509_V_OK);
}

TEST(TestPki, SerialsAreRandom) {
  TestCa ca;
  bssl::UniquePtr<X509> a = ParseCert(ca.Issue(Names({"example.com"})).cert_pem);
  bssl::UniquePtr<X509> b = ParseCert(ca.Issue(Names({"example.com"})).cert_pem);
  ASSERT_TRUE(a && b);
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get_serialNumber(a.get()), X509_get_serialNumber(b.get())), 0);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(TempDir, WritesFilesAndRemovesEverything) {
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    std::string file = dir.Write("a.txt", "hello");
    EXPECT_EQ(ReadFile(file), "hello");
    TestCa ca;
    EXPECT_EQ(ReadFile(ca.WriteCertFile(dir.path())), ca.cert_pem());
  }
  struct stat st;
  EXPECT_NE(stat(path.c_str(), &st), 0);
}

}  // namespace
}  // namespace deputy::test
