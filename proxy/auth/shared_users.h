#pragma once

#include <memory>
#include <string>

#include "auth/auth_observer.h"
#include "auth/users_file.h"
#include "base/status.h"

namespace deputy {

// SharedUsers is one listener's users file as every worker sees it, read with the configuration
// it belongs to and never changed after: a reload reads the file into a new one, and a check
// keeps the table it started with.
class SharedUsers {
 public:
  // Load reads `path` and tells `observer` how it went; an error names the file.
  static Result<std::unique_ptr<SharedUsers>> Load(std::string listener, const std::string& path,
                                                   AuthObserver& observer);

  std::shared_ptr<const UsersTable> Get() const { return table_; }
  const std::string& listener() const { return listener_; }

 private:
  SharedUsers(std::string listener, std::shared_ptr<const UsersTable> table)
      : listener_(std::move(listener)), table_(std::move(table)) {}

  const std::string listener_;
  const std::shared_ptr<const UsersTable> table_;
};

}  // namespace deputy
