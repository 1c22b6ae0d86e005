#include "base/text_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace deputy {

Result<std::string> ReadTextFile(const std::string& path, size_t max_bytes) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status(ErrorCode::kInvalidConfig, "cannot read " + path + ": " + std::strerror(errno));
  }
  std::string text;
  char buffer[8192];
  while (file.read(buffer, sizeof(buffer)) || file.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(file.gcount()));
    if (text.size() > max_bytes) {
      return Status(ErrorCode::kInvalidConfig,
                    path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  if (file.bad()) return Status(ErrorCode::kInvalidConfig, "cannot read " + path);
  return text;
}

}  // namespace deputy
