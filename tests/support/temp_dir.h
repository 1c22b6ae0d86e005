#pragma once

#include <string>

namespace deputy::test {

// TempDir is a fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Write creates or replaces `name` in the directory and returns its full path.
  std::string Write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// WriteFileOrDie creates or replaces the file at `path`.
void WriteFileOrDie(const std::string& path, const std::string& content);

}  // namespace deputy::test
