// Fuzzes ServicesTable::Parse, which reads /etc/services at start: a file deputy trusts less
// than its own config, since packages and admins edit it. The whole input is the file.

#include <cctype>
#include <string>
#include <string_view>

#include "config/services_file.h"
#include "fuzz/fuzzer.h"

namespace deputy::fuzz::services_file {
namespace {

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

DEPUTY_FUZZER(services_file) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ServicesTable table = ServicesTable::Parse(text);
  // Every port that has a name can be found again by that name, in any case.
  for (const uint16_t port : {0, 1, 22, 80, 443, 5222, 5223, 65535}) {
    const std::optional<std::string> name = table.NameOf(port);
    if (!name) continue;
    DEPUTY_FUZZ_CHECK(!name->empty());
    const std::optional<uint16_t> found = table.PortOf(*name);
    DEPUTY_FUZZ_CHECK(found.has_value());
    DEPUTY_FUZZ_CHECK(table.PortOf(Upper(*name)) == found);
  }
  // Parsing depends on the text alone.
  const ServicesTable again = ServicesTable::Parse(text);
  DEPUTY_FUZZ_CHECK(again.empty() == table.empty());
  for (const uint16_t port : {22, 80, 443, 5222}) {
    DEPUTY_FUZZ_CHECK(again.NameOf(port) == table.NameOf(port));
  }
}

}  // namespace deputy::fuzz::services_file
