// What operators load next to deputy holds up against the real tools: Prometheus's promtool
// accepts a live /metrics (after traffic, so every histogram has samples) and the alert rules,
// and the Grafana dashboard has the fields a Grafana 10 import needs and a panel for every
// metric family deputy exports.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "integration/world.h"
#include "support/client.h"
#include "support/password_hash.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace deputy::test {
namespace {

// Fetched by `make test-deps` from Debian's prometheus package (see the Makefile).
std::string Promtool() {
  const std::string fetched = std::string(DEPUTY_SOURCE_DIR) + "/build-tools/promtool";
  if (access(fetched.c_str(), X_OK) == 0) return fetched;
  if (access("/usr/bin/promtool", X_OK) == 0) return "/usr/bin/promtool";
  ADD_FAILURE() << "no promtool: run `make test-deps`, which unpacks it into build-tools/";
  return "";
}

// LiveMetrics is /metrics of a deputy that has a TLS listener, a listener with auth, and has
// carried one tunnel, so every family has its series.
std::string LiveMetrics(World& world) {
  auto echo = world.EchoServer({"example.com"});
  world.PublishTarget("xmpp-client", echo->port());
  CertOptions listener_name;
  listener_name.ip_addresses = {"127.0.0.1"};
  const KeyPair pair = world.ca.Issue(listener_name);
  world.config["listeners"].push_back(
      {{"name", "tls"},
       {"type", "connect"},
       {"address", "127.0.0.1:0"},
       {"tls",
        {{"cert_file", world.dir.Write("listener.pem", pair.cert_pem)},
         {"key_file", world.dir.Write("listener.key", pair.key_pem)}}}});
  const std::string users =
      world.dir.Write("users", UsersFileText({{"alice", HashPassword("alice-pw", "$y$")}}));
  world.config["listeners"].push_back({{"name", "authed"},
                                       {"type", "connect"},
                                       {"address", "127.0.0.1:0"},
                                       {"auth", {{"type", "basic"}, {"users_file", users}}}});
  DeputyProcess& deputy = world.StartDeputy();
  {
    World::Opened tunnel = world.OpenTunnel("example.org:xmpp-client");
    EXPECT_EQ(tunnel.head->status, 200);
  }
  EXPECT_TRUE(deputy.WaitForAccessLogLines(1));
  auto metrics = HttpGet(deputy.Port("admin"), "/metrics");
  EXPECT_TRUE(metrics);
  return metrics ? metrics->body : "";
}

// Families are the names in the exposition's "# TYPE name type" lines.
std::set<std::string> Families(const std::string& text) {
  std::set<std::string> names;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    names.insert(line.substr(7, line.find(' ', 7) - 7));
  }
  return names;
}

TEST(MetricsToolingTest, PromtoolAcceptsALiveMetricsPage) {
  World world;
  const std::string text = LiveMetrics(world);
  ASSERT_FALSE(text.empty());
  const std::string promtool = Promtool();
  ASSERT_FALSE(promtool.empty());
  TempDir dir;
  const std::string page = dir.Write("metrics.txt", text);
  // promtool reads the page on stdin only.
  RunResult run = RunToCompletion(
      {"/bin/sh", "-c", "exec \"$0\" check metrics < \"$1\"", promtool, page}, Millis(30000));
  EXPECT_EQ(run.exit_code, 0) << run.stdout_text << run.stderr_text << "\n" << text;
  EXPECT_EQ(run.stdout_text + run.stderr_text, "") << "lint findings";
}

TEST(MetricsToolingTest, PromtoolAcceptsTheAlertRules) {
  const std::string promtool = Promtool();
  ASSERT_FALSE(promtool.empty());
  RunResult run = RunToCompletion(
      {promtool, "check", "rules", std::string(DEPUTY_SOURCE_DIR) + "/metrics/alerts.yml"},
      Millis(30000));
  EXPECT_EQ(run.exit_code, 0) << run.stdout_text << run.stderr_text;
  EXPECT_NE(run.stdout_text.find("SUCCESS"), std::string::npos) << run.stdout_text;
}

TEST(MetricsToolingTest, TheDashboardImportsIntoGrafana10AndShowsEveryFamily) {
  std::ifstream file(std::string(DEPUTY_SOURCE_DIR) + "/metrics/dashboard.json");
  ASSERT_TRUE(file);
  nlohmann::json dashboard = nlohmann::json::parse(file, nullptr, false);
  ASSERT_FALSE(dashboard.is_discarded()) << "not valid JSON";
  // Grafana 10.0 to 10.2 write schema 38 and migrate older ones on import.
  EXPECT_LE(dashboard.value("schemaVersion", 0), 38);
  EXPECT_GE(dashboard.value("schemaVersion", 0), 36);
  EXPECT_TRUE(dashboard["uid"].is_string());
  EXPECT_TRUE(dashboard["title"].is_string());
  ASSERT_TRUE(dashboard["panels"].is_array());

  std::set<int> ids;
  std::string every_expr;
  for (const nlohmann::json& panel : dashboard["panels"]) {
    const std::string title = panel.value("title", "");
    EXPECT_FALSE(title.empty()) << panel;
    ASSERT_TRUE(panel["id"].is_number_integer()) << title;
    EXPECT_TRUE(ids.insert(panel["id"].get<int>()).second) << "duplicate id: " << title;
    const nlohmann::json& grid = panel["gridPos"];
    for (const char* key : {"h", "w", "x", "y"}) {
      ASSERT_TRUE(grid[key].is_number_integer()) << title << " gridPos." << key;
    }
    EXPECT_LE(grid["x"].get<int>() + grid["w"].get<int>(), 24) << title;
    const std::string type = panel.value("type", "");
    if (type == "row") continue;
    EXPECT_TRUE(type == "stat" || type == "timeseries" || type == "heatmap" || type == "table" ||
                type == "bargauge" || type == "gauge")
        << title << ": " << type;
    EXPECT_EQ(panel["datasource"]["uid"], "${datasource}") << title;
    ASSERT_TRUE(panel["targets"].is_array() && !panel["targets"].empty()) << title;
    for (const nlohmann::json& target : panel["targets"]) {
      EXPECT_TRUE(target["refId"].is_string()) << title;
      ASSERT_TRUE(target["expr"].is_string()) << title;
      every_expr += target["expr"].get<std::string>() + "\n";
    }
  }

  // Every query parses as PromQL: promtool checks them as recording rules, with Grafana's
  // variables replaced by what Grafana would put there.
  const std::string promtool = Promtool();
  ASSERT_FALSE(promtool.empty());
  std::string rules = "groups:\n  - name: dashboard\n    rules:\n";
  std::istringstream exprs(every_expr);
  std::string expr;
  for (int n = 0; std::getline(exprs, expr); ++n) {
    for (const auto& [variable, value] :
         {std::pair<std::string, std::string>{"$__rate_interval", "5m"}, {"$instance", ".*"}}) {
      for (size_t at; (at = expr.find(variable)) != std::string::npos;) {
        expr.replace(at, variable.size(), value);
      }
    }
    // A JSON string is a YAML string.
    rules += "      - record: dashboard:query_" + std::to_string(n) +
             "\n        expr: " + nlohmann::json(expr).dump() + "\n";
  }
  TempDir dir;
  RunResult check = RunToCompletion({promtool, "check", "rules", dir.Write("dashboard.yml", rules)},
                                    Millis(30000));
  EXPECT_EQ(check.exit_code, 0) << check.stdout_text << check.stderr_text << "\n" << rules;

  World world;
  const std::set<std::string> families = Families(LiveMetrics(world));
  EXPECT_GT(families.size(), 30u);
  for (const std::string& family : families) {
    EXPECT_NE(every_expr.find(family), std::string::npos) << "no panel shows " << family;
  }
}

}  // namespace
}  // namespace deputy::test
