// `orbwatch eval`: scores the alerts of a run against the simulator's labels (src/sim/eval.h):
// recall and time to detect per scenario and detector, precision and false alerts per detector.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include <fmt/core.h>
#include <simdjson.h>

#include "cli/commands.h"
#include "core/time.h"
#include "sim/eval.h"

namespace orbwatch::cli {
namespace {

struct EvalArgs {
  std::string labels;
  std::string alerts;
  double hosts = 0;
  double days = 0;
  std::string grace = "1h";
  std::string format = "table";
  double min_recall = -1;
  double max_false = -1;
};

bool read_text(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), {});
  return true;
}

int run_eval(EvalArgs a) {
  auto fail = [](const std::string& what, int rc = 2) {
    fmt::print(stderr, "orbwatch eval: {}\n", what);
    return rc;
  };
  std::string labels_text, alerts_text;
  if (!read_text(a.labels, labels_text)) return fail("--labels " + a.labels + ": cannot be read");
  if (!read_text(a.alerts, alerts_text)) return fail("--alerts " + a.alerts + ": cannot be read");
  sim::EvalOptions o;
  auto grace = parse_duration_ms(a.grace);
  if (!grace) return fail("--grace " + a.grace + ": expected a duration");
  o.grace_ms = *grace;
  // The simulation's size from simulation.json beside the labels, unless given.
  const auto meta = std::filesystem::path(a.labels).parent_path() / "simulation.json";
  std::string meta_text;
  if ((a.hosts <= 0 || a.days <= 0) && read_text(meta.string(), meta_text)) {
    simdjson::dom::parser p;
    simdjson::dom::element e;
    if (p.parse(meta_text).get(e) == simdjson::SUCCESS) {
      uint64_t h = 0;
      double d = 0;
      if (a.hosts <= 0 && e["internal_hosts"].get(h) == simdjson::SUCCESS)
        a.hosts = static_cast<double>(h);
      if (a.days <= 0 && e["days"].get(d) == simdjson::SUCCESS) a.days = d;
    }
  }
  o.hosts = a.hosts;
  o.days = a.days;
  std::vector<sim::Label> labels;
  std::vector<sim::EvalAlert> alerts;
  std::string error;
  if (!sim::parse_labels(labels_text, a.labels, labels, error) ||
      !sim::parse_alerts(alerts_text, a.alerts, alerts, error))
    return fail(error);
  const auto report = sim::evaluate(labels, alerts, o);
  if (a.format == "json") {
    fmt::print("{}\n", sim::report_json(report, o));
  } else if (a.format == "table") {
    fmt::print("{}", sim::format_report(report, o));
  } else {
    return fail("--format " + a.format + ": expected table or json");
  }
  int rc = 0;
  if (a.min_recall >= 0) {
    for (const auto& s : report.scenarios) {
      if (s.recall() < a.min_recall) {
        fmt::print(stderr, "orbwatch eval: {} by {}: recall {:.2f} < {:.2f}\n", s.scenario,
                   s.detector, s.recall(), a.min_recall);
        rc = 1;
      }
    }
  }
  if (a.max_false >= 0) {
    for (const auto& d : report.detectors) {
      if (d.false_rate(o) > a.max_false) {
        fmt::print(stderr,
                   "orbwatch eval: {}: {:.2f} false alerts per 10k hosts per day > {:.2f}\n",
                   d.detector, d.false_rate(o), a.max_false);
        rc = 1;
      }
    }
  }
  return rc;
}

}  // namespace

void add_eval_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval",
      "Score alerts against the labels of `orbwatch simulate`: recall and time to detect per "
      "scenario and detector, precision and false alerts per detector");
  cmd->add_option("--labels", a->labels, "labels.jsonl written by simulate --out")->required();
  cmd->add_option("--alerts", a->alerts, "alert JSON lines (analyze --alerts-out)")->required();
  cmd->add_option("--hosts", a->hosts,
                  "internal hosts, for false alerts per 10k hosts per day (default: from "
                  "simulation.json beside the labels)");
  cmd->add_option("--days", a->days, "simulated days (default: from simulation.json)");
  cmd->add_option("--grace", a->grace, "alerts this long after a scenario's end still count")
      ->capture_default_str();
  cmd->add_option("--format", a->format, "table or json")->capture_default_str();
  cmd->add_option("--min-recall", a->min_recall,
                  "exit 1 when a (scenario, detector) recall is below this");
  cmd->add_option("--max-false", a->max_false,
                  "exit 1 when a detector has more false alerts (medium and above) per 10k hosts "
                  "per day");
  cmd->callback([a, &exit_code] { exit_code = run_eval(*a); });
}

}  // namespace orbwatch::cli
