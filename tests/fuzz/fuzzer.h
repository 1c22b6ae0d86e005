#pragma once

// Shared scaffolding for deputy's fuzzers. Each tests/fuzz/<name>_fuzzer.cc lives in its own
// namespace deputy::fuzz::<name> and defines its body with DEPUTY_FUZZER(<name>) { ... }.
//
// Built with DEPUTY_FUZZ_ENTRY (the libFuzzer build, -DDEPUTY_FUZZ=ON), the macro also emits
// LLVMFuzzerTestOneInput, one fuzzer per executable. Without it (the normal gcc build), the
// macro registers the body under <name> instead, so tests/unit/fuzz_replay_test.cc can compile
// every fuzzer into one binary and replay tests/fuzz/corpus/<name>/ through each.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace deputy::fuzz {

#ifdef DEPUTY_FUZZ_ENTRY
// libFuzzer treats an abort as a crash and saves the input that caused it.
[[noreturn]] inline void CheckFailed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "fuzz invariant violated: %s (%s:%d)\n", condition, file, line);
  std::abort();
}
#else
using FuzzFunction = void (*)(const uint8_t* data, size_t size);

struct RegisteredFuzzer {
  std::string_view name;
  FuzzFunction run;
};

inline std::vector<RegisteredFuzzer>& Registry() {
  static std::vector<RegisteredFuzzer> fuzzers;
  return fuzzers;
}

inline bool Register(std::string_view name, FuzzFunction run) {
  Registry().push_back({name, run});
  return true;
}

// The replay test turns a violation into a test failure naming the input, and goes on with the
// next input instead of taking the whole test binary down.
class InvariantViolation : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

[[noreturn]] inline void CheckFailed(const char* condition, const char* file, int line) {
  throw InvariantViolation(std::string("fuzz invariant violated: ") + condition + " (" + file +
                           ":" + std::to_string(line) + ")");
}
#endif

// FuzzInput hands out the leading parameter bytes of an input; a missing byte reads as 0, so
// every input, even an empty one, is a valid parameter block followed by a (maybe empty) payload.
class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

  uint8_t TakeByte() {
    if (rest_.empty()) return 0;
    const auto byte = static_cast<uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return byte;
  }

  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

// Chunker cuts a payload into pieces whose sizes cycle through the given bytes; a size of 0 means
// "everything that is left", so all-zero sizes feed the payload in one piece.
class Chunker {
 public:
  Chunker(std::string_view payload, std::vector<uint8_t> sizes)
      : rest_(payload), sizes_(std::move(sizes)) {}

  bool done() const { return rest_.empty(); }

  std::string_view Next() {
    const size_t size = sizes_.empty() ? 0 : sizes_[next_++ % sizes_.size()];
    const size_t take = size == 0 ? rest_.size() : std::min<size_t>(size, rest_.size());
    const std::string_view piece = rest_.substr(0, take);
    rest_.remove_prefix(take);
    return piece;
  }

 private:
  std::string_view rest_;
  std::vector<uint8_t> sizes_;
  size_t next_ = 0;
};

// IsPrintableAscii says whether `text` can go into a log line as is: no controls, no non-ASCII.
inline bool IsPrintableAscii(std::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace deputy::fuzz

#define DEPUTY_FUZZ_CHECK(condition) \
  ((condition) ? static_cast<void>(0) : ::deputy::fuzz::CheckFailed(#condition, __FILE__, __LINE__))

#ifdef DEPUTY_FUZZ_ENTRY
#define DEPUTY_FUZZ_HOOK_(name)                                             \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { \
    FuzzOne(data, size);                                                    \
    return 0;                                                               \
  }
#else
#define DEPUTY_FUZZ_HOOK_(name) \
  [[maybe_unused]] const bool kRegistered = ::deputy::fuzz::Register(#name, &FuzzOne);
#endif

// DEPUTY_FUZZER(name) { body } defines FuzzOne(data, size) in the enclosing namespace, which
// must be deputy::fuzz::<name>, and hooks it up as described at the top of this file.
#define DEPUTY_FUZZER(name)                       \
  void FuzzOne(const uint8_t* data, size_t size); \
  DEPUTY_FUZZ_HOOK_(name)                         \
  void FuzzOne(const uint8_t* data, size_t size)
