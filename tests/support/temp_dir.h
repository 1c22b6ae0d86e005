#pragma once

#include <cstddef>
#include <string>

#include "support/wait.h"

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

// ReadFileText is the whole file at `path`; empty when it cannot be read.
std::string ReadFileText(const std::string& path);

// WaitForFileLines waits until the file at `path` (written by another process or thread) holds
// at least `lines` complete lines; false when `timeout` passes first.
bool WaitForFileLines(const std::string& path, size_t lines, Millis timeout = kDefaultTimeout);

}  // namespace deputy::test
