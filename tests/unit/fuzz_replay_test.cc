// Replays every fuzzer's seed corpus (tests/fuzz/corpus/<name>/) through that fuzzer in the
// normal test build, without libFuzzer, so a crash or violated invariant found once stays fixed.
// The fuzzers are compiled into this file: each registers itself under its name (fuzz/fuzzer.h).

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "fuzz/basic_credentials_fuzzer.cc"
#include "fuzz/cache_control_fuzzer.cc"
#include "fuzz/config_fuzzer.cc"
#include "fuzz/connect_authority_fuzzer.cc"
#include "fuzz/dns_message_fuzzer.cc"
#include "fuzz/document_fuzzer.cc"
#include "fuzz/ip_network_fuzzer.cc"
#include "fuzz/proxy_header_fuzzer.cc"
#include "fuzz/request_head_fuzzer.cc"
#include "fuzz/response_fuzzer.cc"
#include "fuzz/services_file_fuzzer.cc"
#include "fuzz/socks5_fuzzer.cc"
#include "fuzz/url_fuzzer.cc"

namespace deputy::fuzz {

// Test names already say which fuzzer a parameter is; gtest would print its bytes otherwise.
void PrintTo(const RegisteredFuzzer& fuzzer, std::ostream* out) { *out << fuzzer.name; }

namespace {

namespace fs = std::filesystem;

const fs::path kFuzzDir = fs::path(DEPUTY_SOURCE_DIR) / "tests" / "fuzz";
// Each corpus holds a handful of meaningful seeds, not a stray file or two.
constexpr size_t kMinSeeds = 3;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void RunOne(const RegisteredFuzzer& fuzzer, std::string_view input_name, std::string_view bytes) {
  try {
    fuzzer.run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  } catch (const InvariantViolation& violation) {
    ADD_FAILURE() << fuzzer.name << " on " << input_name << ": " << violation.what();
  }
}

std::set<std::string> RegisteredNames() {
  std::set<std::string> names;
  for (const RegisteredFuzzer& fuzzer : Registry()) names.emplace(fuzzer.name);
  return names;
}

class FuzzReplayTest : public testing::TestWithParam<RegisteredFuzzer> {};

TEST_P(FuzzReplayTest, ReplaysItsCorpus) {
  const fs::path corpus = kFuzzDir / "corpus" / std::string(GetParam().name);
  ASSERT_TRUE(fs::is_directory(corpus)) << corpus;
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(corpus)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), kMinSeeds) << corpus;
  for (const fs::path& file : files) {
    RunOne(GetParam(), file.string(), ReadFile(file));
  }
}

// Inputs no corpus needs to hold: nothing, each single byte, and long runs.
TEST_P(FuzzReplayTest, SurvivesDegenerateInputs) {
  RunOne(GetParam(), "(empty)", "");
  for (int byte = 0; byte < 256; ++byte) {
    RunOne(GetParam(), "(one byte)", std::string(1, static_cast<char>(byte)));
  }
  RunOne(GetParam(), "(64 KiB of 'A')", std::string(64 * 1024, 'A'));
  RunOne(GetParam(), "(64 KiB of 0xff)", std::string(64 * 1024, '\xff'));
  RunOne(GetParam(), "(64 KiB of '[')", std::string(64 * 1024, '['));
}

INSTANTIATE_TEST_SUITE_P(All, FuzzReplayTest, testing::ValuesIn(Registry()),
                         [](const testing::TestParamInfo<RegisteredFuzzer>& info) {
                           return std::string(info.param.name);
                         });

// A fuzzer source not compiled in above, or a corpus without its fuzzer, would go unreplayed.
TEST(FuzzReplayCoverageTest, EveryFuzzerAndCorpusIsReplayed) {
  const std::set<std::string> registered = RegisteredNames();
  EXPECT_EQ(registered.size(), Registry().size()) << "two fuzzers share a name";
  std::set<std::string> sources;
  for (const fs::directory_entry& entry : fs::directory_iterator(kFuzzDir)) {
    const std::string file = entry.path().filename().string();
    const std::string suffix = "_fuzzer.cc";
    if (file.size() > suffix.size() && file.ends_with(suffix)) {
      sources.insert(file.substr(0, file.size() - suffix.size()));
    }
  }
  EXPECT_EQ(sources, registered);
  std::set<std::string> corpora;
  for (const fs::directory_entry& entry : fs::directory_iterator(kFuzzDir / "corpus")) {
    if (entry.is_directory()) corpora.insert(entry.path().filename().string());
  }
  EXPECT_EQ(corpora, registered);
}

}  // namespace
}  // namespace deputy::fuzz
