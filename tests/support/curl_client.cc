#include "support/curl_client.h"

#include <charconv>

#include "support/subprocess.h"

namespace deputy::test {

CurlRun CurlThroughProxy(uint16_t proxy_port, const std::string& url,
                         const std::vector<std::string>& extra, Millis timeout) {
  // The CONNECT status comes last, on its own line, after whatever the target sent.
  std::vector<std::string> argv = {"/usr/bin/curl",
                                   "--silent",
                                   "--show-error",
                                   "--max-time",
                                   std::to_string(timeout.count() / 1000 + 1),
                                   "--write-out",
                                   "\n%{http_connect}"};
  if (proxy_port != 0) {
    argv.insert(argv.end(),
                {"--proxytunnel", "--proxy", "http://127.0.0.1:" + std::to_string(proxy_port)});
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(url);
  RunResult result = RunToCompletion(argv, timeout + Millis(2000));
  CurlRun run;
  run.exit_code = result.exit_code;
  run.stderr_text = result.stderr_text;
  const size_t newline = result.stdout_text.rfind('\n');
  if (newline == std::string::npos) {
    run.body = result.stdout_text;
    return run;
  }
  run.body = result.stdout_text.substr(0, newline);
  const std::string status = result.stdout_text.substr(newline + 1);
  std::from_chars(status.data(), status.data() + status.size(), run.connect_status);
  return run;
}

}  // namespace deputy::test
