#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "auth/auth_observer.h"
#include "auth/users_file.h"
#include "base/status.h"

namespace deputy {

// SharedUsers is one listener's users file as every worker sees it: read by the main thread
// (at start and on SIGHUP), used by any worker. A read that fails keeps the table before in
// force. A check holds the table it started with, so a reload never changes one mid-way.
class SharedUsers {
 public:
  SharedUsers(std::string listener, std::string path, AuthObserver& observer);

  Status Load();
  std::shared_ptr<const UsersTable> Get() const;
  const std::string& listener() const { return listener_; }

 private:
  std::string listener_;
  std::string path_;
  AuthObserver& observer_;
  mutable std::mutex mutex_;
  std::shared_ptr<const UsersTable> table_;
};

}  // namespace deputy
