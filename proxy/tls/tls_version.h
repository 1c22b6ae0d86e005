#pragma once

namespace deputy {

// TlsVersion is the lowest TLS version deputy accepts from a peer. It lives in tls/ so that the
// TLS layer needs nothing from config/, which only names it.
enum class TlsVersion { kTls12, kTls13 };

}  // namespace deputy
