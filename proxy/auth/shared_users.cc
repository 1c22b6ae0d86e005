#include "auth/shared_users.h"

namespace deputy {

Result<std::unique_ptr<SharedUsers>> SharedUsers::Load(std::string listener,
                                                       const std::string& path,
                                                       AuthObserver& observer) {
  Result<UsersTable> table = UsersTable::Load(path);
  observer.OnUsersFileLoad(listener, table.ok());
  if (!table.ok()) return table.status();
  return std::unique_ptr<SharedUsers>(new SharedUsers(
      std::move(listener), std::make_shared<const UsersTable>(std::move(table).value())));
}

}  // namespace deputy
