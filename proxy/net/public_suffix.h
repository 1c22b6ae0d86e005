#pragma once

#include <libpsl.h>

#include <memory>
#include <string>
#include <string_view>

namespace deputy {

// PublicSuffixList answers which registrable domain a DNS name belongs to: the part one label
// below its public suffix ("a.b.example.co.uk" belongs to "example.co.uk"). Anyone who owns a
// registrable domain owns every name under it, so limits meant for "one domain" must count by
// this, or an attacker spends a fresh subdomain per request. Loading reads a file, so build one
// at start-up, off the data path.
class PublicSuffixList {
 public:
  // Loads the newest list on the machine: Debian's publicsuffix package, else libpsl's own copy.
  PublicSuffixList();

  // RegistrableDomain returns the registrable domain of `name` (a lower-case DNS name), or
  // `name` itself when it has none: a public suffix such as "co.uk", or a single label.
  std::string RegistrableDomain(std::string_view name) const;

  // loaded is false when neither list exists; every name then stands for itself, which makes
  // per-domain limits per exact name, so the owner should warn.
  bool loaded() const { return list_ != nullptr; }

 private:
  struct Free {
    void operator()(psl_ctx_t* list) const { psl_free(list); }
  };
  std::unique_ptr<psl_ctx_t, Free> loaded_;
  const psl_ctx_t* list_ = nullptr;
};

}  // namespace deputy
