// deputy: a delegation-aware TLS forwarding proxy. Command line entry point.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "auth/users_file.h"
#include "cli/resolve_command.h"
#include "config/config_loader.h"
#include "config/services_db.h"
#include "log/process_logs.h"
#include "server/server.h"
#include "tls/tls_server_context.h"

namespace {

int Run(const std::string& config_path, deputy::LineQueueLimits log_limits,
        std::optional<spdlog::level::level_enum> fixed_level) {
  // From here on the loop never waits for stdout or stderr; the destructor flushes both.
  deputy::ProcessLogs logs(log_limits, {}, fixed_level);
  // Read /etc/services now rather than on the loop at the first CONNECT that needs it.
  deputy::SystemServices();
  deputy::Result<deputy::Config> config = deputy::LoadConfig(config_path);
  if (!config.ok()) {
    spdlog::error("{}", config.status().message());
    return 1;
  }
  deputy::Server server(std::move(config).value(), config_path, &logs);
  deputy::Status started = server.Start();
  if (!started.ok()) {
    spdlog::error("cannot start: {}", started.message());
    return 1;
  }
  server.Run();
  return 0;
}

int Check(const std::string& config_path) {
  // LoadConfig's messages already name the file; CheckFilesReadable's name the key.
  deputy::Result<deputy::Config> config = deputy::LoadConfig(config_path);
  if (!config.ok()) {
    std::cerr << config.status().message() << "\n";
    return 1;
  }
  if (deputy::Status files = deputy::CheckFilesReadable(*config); !files.ok()) {
    std::cerr << config_path << ": " << files.message() << "\n";
    return 1;
  }
  // Users files are read whole, as `run` would read them, so a bad line shows here.
  for (const deputy::ListenerConfig& listener : config->listeners) {
    if (!listener.auth) continue;
    deputy::Result<deputy::UsersTable> users = deputy::UsersTable::Load(listener.auth->users_file);
    if (!users.ok()) {
      std::cerr << config_path << ": listener " << listener.name << ": " << users.status().message()
                << "\n";
      return 1;
    }
  }
  // Certificates and keys are loaded as `run` would, so a key that does not match shows here.
  for (const deputy::ListenerConfig& listener : config->listeners) {
    if (!listener.tls) continue;
    deputy::Result<deputy::TlsServerContext> tls = deputy::TlsServerContext::Create(*listener.tls);
    if (!tls.ok()) {
      std::cerr << config_path << ": listener " << listener.name << ": " << tls.status().message()
                << "\n";
      return 1;
    }
  }
  std::cout << config_path << ": ok (" << config->listeners.size() << " listener(s))\n";
  return 0;
}

int Resolve(const std::string& config_path, const std::string& domain, const std::string& service) {
  deputy::Config defaults;
  if (!config_path.empty()) {
    deputy::Result<deputy::Config> config = deputy::LoadConfig(config_path);
    if (!config.ok()) {
      std::cerr << config.status().message() << "\n";
      return deputy::kResolveFailed;
    }
    defaults = std::move(config).value();
  }
  return deputy::RunResolve(defaults, domain, service);
}

}  // namespace

int main(int argc, char** argv) {
  // Writes to a peer that has gone must fail with EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"deputy: delegation-aware TLS forwarding proxy"};
  app.set_version_flag("--version", std::string("deputy ") + DEPUTY_VERSION);
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  std::string config_path;
  CLI::App* run = app.add_subcommand("run", "run the proxy");
  // `deputy run -c FILE --log-level debug` works as well as the option before `run`.
  run->fallthrough();
  run->add_option("-c,--config", config_path, "configuration file (JSON)")->required();
  deputy::LineQueueLimits log_limits;
  run->add_option("--log-queue-lines", log_limits.max_lines,
                  "lines each log (access, diagnostic) may hold for a slow sink before dropping")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 24));
  run->add_option("--log-queue-bytes", log_limits.max_bytes,
                  "bytes each log may hold for a slow sink before dropping")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30));

  CLI::App* check = app.add_subcommand("check", "validate a configuration file");
  check->add_option("-c,--config", config_path, "configuration file (JSON)")->required();

  std::string domain;
  std::string service;
  CLI::App* resolve =
      app.add_subcommand("resolve", "look up a delegation and verify its first target");
  resolve->add_option("domain", domain, "domain, e.g. example.org")->required();
  resolve->add_option("service", service, "service name, e.g. xmpp-client")->required();
  resolve->add_option("-c,--config", config_path, "configuration file (JSON)");
  resolve->footer("Exit status: 0 delegated and verified, 3 not delegated, 1 failed.");

  CLI11_PARSE(app, argc, argv);
  deputy::UseStderrLogger(spdlog::level::from_str(log_level));

  // An explicit --log-level wins over the configuration's log.level.
  std::optional<spdlog::level::level_enum> fixed_level;
  if (app.count("--log-level") > 0) fixed_level = spdlog::level::from_str(log_level);
  if (run->parsed()) return Run(config_path, log_limits, fixed_level);
  if (check->parsed()) return Check(config_path);
  return Resolve(config_path, domain, service);
}
