#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

namespace deputy::test {

// Bytes is a string of the given byte values, for binary protocol messages.
inline std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

// Socks5ConnectByName is a SOCKS 5 request (CONNECT unless `command` says otherwise) for
// `host`:`port` as a domain name.
inline std::string Socks5ConnectByName(const std::string& host, uint16_t port,
                                       uint8_t command = 1) {
  return Bytes({5, command, 0, 3, static_cast<int>(host.size())}) + host +
         Bytes({port >> 8, port & 0xff});
}

}  // namespace deputy::test
