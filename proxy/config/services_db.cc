#include "config/services_db.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cerrno>
#include <vector>

#include "delegation/names.h"

namespace deputy {

namespace {

constexpr char kProtocol[] = "tcp";
constexpr size_t kInitialBuffer = 1024;
constexpr size_t kMaxBuffer = 1 << 20;

// CallWithBuffer runs a getserv*_r lookup, growing its scratch buffer while the entry does not
// fit (ERANGE). It returns the entry, or nullopt when there is none or the lookup failed.
template <typename Lookup>
std::optional<servent> CallWithBuffer(std::vector<char>* buffer, Lookup lookup) {
  buffer->resize(kInitialBuffer);
  while (true) {
    servent entry{};
    servent* result = nullptr;
    const int error = lookup(&entry, buffer->data(), buffer->size(), &result);
    if (error == ERANGE && buffer->size() < kMaxBuffer) {
      buffer->resize(buffer->size() * 2);
      continue;
    }
    if (error != 0 || result == nullptr) return std::nullopt;
    return entry;
  }
}

std::optional<std::string> SystemServiceForPort(uint16_t port) {
  std::vector<char> buffer;
  const std::optional<servent> entry =
      CallWithBuffer(&buffer, [port](servent* out, char* buf, size_t size, servent** result) {
        // The port goes in network byte order, as in the servent it returns.
        return getservbyport_r(htons(port), kProtocol, out, buf, size, result);
      });
  if (!entry || entry->s_name == nullptr) return std::nullopt;
  return std::string(entry->s_name);
}

std::optional<uint16_t> SystemPortForService(const std::string& service) {
  std::vector<char> buffer;
  const std::optional<servent> entry =
      CallWithBuffer(&buffer, [&service](servent* out, char* buf, size_t size, servent** result) {
        return getservbyname_r(service.c_str(), kProtocol, out, buf, size, result);
      });
  if (!entry) return std::nullopt;
  return ntohs(static_cast<uint16_t>(entry->s_port));
}

}  // namespace

std::optional<std::string> ServiceForPort(uint16_t port, const Config& config) {
  for (const auto& [name, configured_port] : config.services) {
    if (configured_port == port) return name;
  }
  std::optional<std::string> name = SystemServiceForPort(port);
  if (!name || !IsValidServiceName(*name)) return std::nullopt;
  name = NormalizeServiceName(*name);
  // The config moved this name to another port; the system's pairing no longer holds.
  if (config.services.contains(*name)) return std::nullopt;
  return name;
}

std::optional<uint16_t> PortForService(std::string_view service, const Config& config) {
  if (!IsValidServiceName(service)) return std::nullopt;
  const std::string name = NormalizeServiceName(service);
  if (const auto it = config.services.find(name); it != config.services.end()) return it->second;
  return SystemPortForService(name);
}

}  // namespace deputy
