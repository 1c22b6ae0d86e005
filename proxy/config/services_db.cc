#include "config/services_db.h"

#include <spdlog/spdlog.h>

#include "net/names.h"

namespace deputy {

namespace {

ServicesTable LoadSystemServices() {
  Result<ServicesTable> table = ServicesTable::Load(kSystemServicesPath);
  if (!table.ok()) {
    spdlog::warn("{}; service names and ports map through the config's \"services\" only",
                 table.status().message());
    return ServicesTable();
  }
  return std::move(table).value();
}

}  // namespace

const ServicesTable& SystemServices() {
  static const ServicesTable table = LoadSystemServices();
  return table;
}

std::optional<std::string> ServiceForPort(uint16_t port, const Config& config,
                                          const ServicesTable& system) {
  for (const auto& [name, configured_port] : config.services) {
    if (configured_port == port) return name;
  }
  std::optional<std::string> name = system.NameOf(port);
  if (!name || !IsValidServiceName(*name)) return std::nullopt;
  name = NormalizeServiceName(*name);
  // The config moved this name to another port; the system's pairing no longer holds.
  if (config.services.contains(*name)) return std::nullopt;
  return name;
}

std::optional<uint16_t> PortForService(std::string_view service, const Config& config,
                                       const ServicesTable& system) {
  if (!IsValidServiceName(service)) return std::nullopt;
  const std::string name = NormalizeServiceName(service);
  if (const auto it = config.services.find(name); it != config.services.end()) return it->second;
  return system.PortOf(name);
}

}  // namespace deputy
