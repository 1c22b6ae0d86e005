#include "server/listener_tls.h"

namespace deputy {

void ListenerTls::Set(const ListenerConfig& listener, TlsServerContext context) {
  std::lock_guard lock(mutex_);
  contexts_.insert_or_assign(&listener, std::move(context));
}

bssl::UniquePtr<SSL_CTX> ListenerTls::Share(const ListenerConfig& listener) const {
  std::lock_guard lock(mutex_);
  const auto found = contexts_.find(&listener);
  if (found == contexts_.end()) return nullptr;
  return found->second.Share();
}

}  // namespace deputy
