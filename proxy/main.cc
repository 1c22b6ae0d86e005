// deputy: a delegation-aware TLS forwarding proxy. Command line entry point.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>

#include "cli/resolve_command.h"
#include "config/config_loader.h"
#include "server.h"

namespace {

void SetUpLogging(const std::string& level) {
  auto logger = spdlog::stderr_logger_st("deputy");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

int Run(const std::string& config_path) {
  deputy::Result<deputy::Config> config = deputy::LoadConfig(config_path);
  if (!config.ok()) {
    spdlog::error("{}", config.status().message());
    return 1;
  }
  deputy::Server server(std::move(config).value());
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
  // getaddrinfo runs on libuv's thread pool (4 threads by default) and cannot be cancelled once
  // started, so a few names whose DNS never answers could stall every other lookup. An
  // operator's own setting wins.
  setenv("UV_THREADPOOL_SIZE", "32", 0);

  CLI::App app{"deputy: delegation-aware TLS forwarding proxy"};
  app.set_version_flag("--version", std::string("deputy ") + DEPUTY_VERSION);
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  std::string config_path;
  CLI::App* run = app.add_subcommand("run", "run the proxy");
  run->add_option("-c,--config", config_path, "configuration file (JSON)")->required();

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
  SetUpLogging(log_level);

  if (run->parsed()) return Run(config_path);
  if (check->parsed()) return Check(config_path);
  return Resolve(config_path, domain, service);
}
