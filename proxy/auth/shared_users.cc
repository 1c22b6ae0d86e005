#include "auth/shared_users.h"

namespace deputy {

SharedUsers::SharedUsers(std::string listener, std::string path, AuthObserver& observer)
    : listener_(std::move(listener)),
      path_(std::move(path)),
      observer_(observer),
      table_(std::make_shared<const UsersTable>()) {}

Status SharedUsers::Load() {
  Result<UsersTable> table = UsersTable::Load(path_);
  size_t users = 0;
  {
    std::lock_guard lock(mutex_);
    if (table.ok()) table_ = std::make_shared<const UsersTable>(std::move(table).value());
    users = table_->size();
  }
  observer_.OnUsersFileLoad(listener_, table.ok(), users);
  return table.status();
}

std::shared_ptr<const UsersTable> SharedUsers::Get() const {
  std::lock_guard lock(mutex_);
  return table_;
}

}  // namespace deputy
