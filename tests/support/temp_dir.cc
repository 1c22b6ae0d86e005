#include "support/temp_dir.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <thread>

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

std::string ReadFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool WaitForFileLines(const std::string& path, size_t lines, Millis timeout) {
  Deadline deadline(timeout);
  // A file gives no event to wait for without inotify; its writer appends within milliseconds.
  while (true) {
    const std::string text = ReadFileText(path);
    if (static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) >= lines) return true;
    if (deadline.expired()) return false;
    std::this_thread::sleep_for(Millis(5));
  }
}

}  // namespace deputy::test
