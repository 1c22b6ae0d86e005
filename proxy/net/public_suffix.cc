#include "net/public_suffix.h"

namespace deputy {

PublicSuffixList::PublicSuffixList() : loaded_(psl_latest(nullptr)) {
  list_ = loaded_ ? loaded_.get() : psl_builtin();
}

std::string PublicSuffixList::RegistrableDomain(std::string_view name) const {
  if (list_ == nullptr) return std::string(name);
  std::string terminated(name);
  const char* registrable = psl_registrable_domain(list_, terminated.c_str());
  return registrable != nullptr ? std::string(registrable) : terminated;
}

}  // namespace deputy
