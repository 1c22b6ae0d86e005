#include "support/temp_dir.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "support/die.h"

namespace deputy::test {

TempDir::TempDir() {
  char templ[] = "/tmp/deputy-test-XXXXXX";
  if (mkdtemp(templ) == nullptr) DieErrno("mkdtemp");
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::Write(const std::string& name, const std::string& content) const {
  std::string file = path_ + "/" + name;
  WriteFileOrDie(file, content);
  return file;
}

void WriteFileOrDie(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) Die("cannot write " + path);
}

}  // namespace deputy::test
