#pragma once

#include <array>
#include <cstddef>
#include <string_view>
#include <utility>

#include "config/config.h"
#include "log/log_settings.h"
#include "tls/tls_version.h"

namespace deputy {

// How the configuration file spells each choice. The loader accepts exactly these names and
// /debug/config writes them, so what deputy reads and what it shows cannot drift apart.
template <typename T>
using ChoiceName = std::pair<std::string_view, T>;

inline constexpr std::array<ChoiceName<ListenerType>, 3> kListenerTypeNames{{
    {"connect", ListenerType::kConnect},
    {"fixed", ListenerType::kFixed},
    {"socks5", ListenerType::kSocks5},
}};
inline constexpr std::array<ChoiceName<TlsVersion>, 2> kTlsVersionNames{{
    {"1.2", TlsVersion::kTls12},
    {"1.3", TlsVersion::kTls13},
}};
inline constexpr std::array<ChoiceName<DiscoverySource>, 3> kDiscoverySourceNames{{
    {"well-known", DiscoverySource::kWellKnown},
    {"srv", DiscoverySource::kSrv},
    {"direct", DiscoverySource::kDirect},
}};
inline constexpr std::array<ChoiceName<PolicyAction>, 2> kPolicyActionNames{{
    {"allow", PolicyAction::kAllow},
    {"deny", PolicyAction::kDeny},
}};
inline constexpr std::array<ChoiceName<LogLevel>, 6> kLogLevelNames{{
    {"trace", LogLevel::kTrace},
    {"debug", LogLevel::kDebug},
    {"info", LogLevel::kInfo},
    {"warn", LogLevel::kWarn},
    {"error", LogLevel::kError},
    {"off", LogLevel::kOff},
}};
inline constexpr std::array<ChoiceName<LogFormat>, 2> kLogFormatNames{{
    {"text", LogFormat::kText},
    {"json", LogFormat::kJson},
}};

// NameOf is the name `names` gives `value`; every table above names every value of its enum.
template <typename T, size_t N>
constexpr std::string_view NameOf(const std::array<ChoiceName<T>, N>& names, T value) {
  for (const auto& [name, choice] : names) {
    if (choice == value) return name;
  }
  return names[0].first;
}

}  // namespace deputy
