#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/wait.h"

namespace deputy::test {

// CurlRun is how one curl run through deputy ended.
struct CurlRun {
  int exit_code = -1;
  int connect_status = 0;  // the status of deputy's answer to CONNECT (%{http_connect})
  std::string body;        // what curl received from the target
  std::string stderr_text;
};

// CurlThroughProxy runs the system's curl (Debian's `curl`) against `url` through deputy's
// listener on 127.0.0.1:`proxy_port`, tunnelling with CONNECT (-p) even for http:// URLs, with
// `extra` arguments such as {"-U", "alice:secret"}. With `proxy_port` 0, `extra` names the
// proxy (e.g. {"--socks5-hostname", "127.0.0.1:1080"}).
CurlRun CurlThroughProxy(uint16_t proxy_port, const std::string& url,
                         const std::vector<std::string>& extra = {},
                         Millis timeout = kDefaultTimeout);

}  // namespace deputy::test
