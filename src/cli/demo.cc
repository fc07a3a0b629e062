// `orbwatch demo`: the daemon on embedded defaults, fed by the simulator, with a live summary of
// the alerts as they fire. It writes a simulated organisation (network model, threat feed,
// AS/country data) into a data directory, starts `orbwatch run` on it (loopback ports), sends
// a simulated week of NetFlow v9 with the covert-network scenarios to it, prints each alert of
// medium severity or more as it arrives, then scores every detector against the simulation's
// labels. The daemon keeps serving the API until Ctrl-C; then everything stops cleanly.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "cli/commands.h"
#include "core/time.h"
#include "sim/eval.h"

namespace orbwatch::cli {

namespace {

namespace fs = std::filesystem;

volatile std::sig_atomic_t g_demo_stop = 0;
extern "C" void on_demo_signal(int) {
  g_demo_stop = 1;
}

struct DemoOptions {
  uint64_t seed = 1;
  uint32_t hosts = 200;
  double days = 7;
  double rate = 200'000;
  std::string dir;
  std::string http = "127.0.0.1:8080";
  double duration_s = 0;
};

// A child: this binary with `args`, its stderr (and stdout) into `log`.
pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
  }
  std::signal(SIGINT, SIG_IGN);  // Ctrl-C reaches the demo, which stops the children in order
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv("/proc/self/exe", argv.data());
  _exit(127);
}

// Waits up to `timeout` for `pid`; its exit code, or -1 when it had to be killed.
int reap(pid_t pid, int sig, std::chrono::seconds timeout) {
  if (pid <= 0) return -1;
  if (sig != 0) kill(pid, sig);
  const auto until = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > until) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits until the log says "... on ADDRESS:PORT" (`prefix` up to the port); ADDRESS:PORT.
std::string wait_log(const fs::path& log, const std::string& prefix, pid_t pid, int seconds) {
  for (int i = 0; i < seconds * 20 && g_demo_stop == 0; ++i) {
    const std::string text = read_all(log);
    if (const size_t at = text.find(prefix); at != std::string::npos) {
      size_t end = at + prefix.size();
      while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
      const size_t skip = prefix.find(" on ") + 4;
      if (end > at + prefix.size() && end < text.size())
        return text.substr(at + skip, end - at - skip);
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return {};
}

// The text of a top-level string field of an alert's JSON line (escapes kept as written).
std::string field(const std::string& line, const std::string& key) {
  const std::string open = "\"" + key + "\":\"";
  const size_t at = line.find(open);
  if (at == std::string::npos) return {};
  size_t end = at + open.size();
  while (end < line.size() && line[end] != '"') end += line[end] == '\\' ? 2 : 1;
  return line.substr(at + open.size(), std::min(end, line.size()) - at - open.size());
}

// The alerts file, read as it grows: each alert id printed once (its first version).
class AlertTail {
 public:
  explicit AlertTail(fs::path path) : path_(std::move(path)) {}
  void poll() {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return;
    in.seekg(static_cast<std::streamoff>(offset_));
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof()) break;  // a line still being written
      offset_ += line.size() + 1;
      const std::string id = field(line, "id");
      if (id.empty() || !seen_.insert(id).second) continue;
      const std::string severity = field(line, "severity");
      const std::string detector = field(line, "detector");
      ++by_detector_[detector][severity];
      if (severity == "low") {
        ++lows_;
        continue;
      }
      // A few of each kind: a scanning camera raises hundreds.
      if (++printed_[detector] > kPerDetector) {
        if (printed_[detector] == kPerDetector + 1)
          fmt::print("  ... more {} alerts: http API, /api/v1/alerts?detector={}\n", detector,
                     detector);
        continue;
      }
      std::string summary = field(line, "summary");
      if (summary.size() > 150) summary = summary.substr(0, 147) + "...";
      fmt::print("  {}  {:<8} {:<12} {}\n", field(line, "ts").substr(0, 16), severity, detector,
                 summary);
    }
  }
  size_t distinct() const { return seen_.size(); }
  uint64_t lows() const { return lows_; }
  const std::map<std::string, std::map<std::string, uint64_t>>& by_detector() const {
    return by_detector_;
  }

 private:
  static constexpr uint64_t kPerDetector = 5;
  fs::path path_;
  size_t offset_ = 0;
  std::map<std::string, uint64_t> printed_;
  std::set<std::string> seen_;
  uint64_t lows_ = 0;
  std::map<std::string, std::map<std::string, uint64_t>> by_detector_;
};

int run_demo(const DemoOptions& o) {
  struct sigaction sa {};
  sa.sa_handler = on_demo_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  fs::path dir = o.dir;
  const bool temporary = dir.empty();
  if (temporary) {
    std::string tmpl = (fs::temp_directory_path() / "orbwatch-demo-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      fmt::print(stderr, "orbwatch demo: cannot create a temporary directory\n");
      return 1;
    }
    dir = tmpl;
  }
  fs::create_directories(dir / "sim");
  const std::string self = "/proc/self/exe";
  // The simulated week ends now, so what the demo finds is current.
  const int64_t span_ms = static_cast<int64_t>(o.days * 86'400'000);
  const int64_t start_ms = (wall_clock_ms() - span_ms) / 3'600'000 * 3'600'000;
  const std::string start = rfc3339_ms(start_ms);
  const std::vector<std::string> sim = {"orbwatch", "simulate",
                                        "--seed",   std::to_string(o.seed),
                                        "--hosts",  std::to_string(o.hosts),
                                        "--days",   fmt::format("{}", o.days),
                                        "--start",  start};
  auto args = sim;
  args.insert(args.end(), {"--out", (dir / "sim").string()});
  if (reap(spawn(args, (dir / "simulate.log").string()), 0, std::chrono::seconds(120)) != 0) {
    fmt::print(stderr, "orbwatch demo: the simulator failed: {}\n", read_all(dir / "simulate.log"));
    return 1;
  }
  // Embedded defaults for everything else: loopback, the data directory, every detector.
  std::ofstream(dir / "orbwatch.toml")
      << "# Written by orbwatch demo.\n[collect]\nlisten = [\"udp://127.0.0.1:0\"]\n\n"
      << "[store]\npath = \"data\"\nstate_interval = \"10s\"  # the dashboard's edge map fills "
         "soon\n\n"
      << "[http]\nlisten = \"" << o.http << "\"\n\n"
      << "[[feeds]]\nname = \"demo-covert-nodes\"\nsource = \"sim/feed.txt\"\n\n"
      << "[[outputs]]\ntype = \"jsonl\"\npath = \"alerts.jsonl\"\n\n"
      << "[enrich]\ndatabases = [\"sim/asn.csv\", \"sim/country.csv\"]\n\n"
      << "[detectors.exposure]\nlearning = \"2d\"\n\n"
      << read_all(dir / "sim" / "model.toml");
  const fs::path log = dir / "daemon.log";
  pid_t daemon =
      spawn({"orbwatch", "run", "--config", (dir / "orbwatch.toml").string()}, log.string());
  std::string udp = wait_log(log, "listening on udp://127.0.0.1:", daemon, 30);
  std::string http = wait_log(log, "http on 127.0.0.1:", daemon, 30);
  if (http.empty() && o.http != "127.0.0.1:0" && g_demo_stop == 0) {
    // The port is taken: any free one will do.
    reap(daemon, SIGTERM, std::chrono::seconds(10));
    std::string config = read_all(dir / "orbwatch.toml");
    config.replace(config.find(o.http), o.http.size(), "127.0.0.1:0");
    std::ofstream(dir / "orbwatch.toml") << config;
    fs::remove(log);
    daemon = spawn({"orbwatch", "run", "--config", (dir / "orbwatch.toml").string()}, log.string());
    udp = wait_log(log, "listening on udp://127.0.0.1:", daemon, 30);
    http = wait_log(log, "http on 127.0.0.1:", daemon, 30);
  }
  if (udp.empty() || http.empty()) {
    reap(daemon, SIGTERM, std::chrono::seconds(10));
    fmt::print(stderr, "orbwatch demo: the daemon did not start:\n{}", read_all(log));
    return 1;
  }
  fmt::print(
      "orbwatch demo: the daemon runs on {} (data in {})\n"
      "  dashboard http://{}/\n"
      "  API       http://{}/api/v1/alerts   http://{}/api/v1/inventory   http://{}/api/v1/health\n"
      "  metrics   http://{}/metrics\n"
      "  lists     http://{}/edl/block.txt   TAXII 2.1: http://{}/taxii2/\n"
      "Sending a simulated week of NetFlow v9 to {}: {} workstations, servers, cameras, branch\n"
      "routers, remote users, and eight covert-network scenarios (docs/simulate.md).\n"
      "Alerts of medium severity and above as they fire:\n",
      dir.string(), dir.string(), http, http, http, http, http, http, http, udp, o.hosts);
  std::fflush(stdout);

  args = sim;
  args.insert(args.end(), {"--export", udp, "--rate", fmt::format("{}", o.rate)});
  pid_t sender = spawn(args, (dir / "simulate.log").string());
  AlertTail tail(dir / "alerts.jsonl");
  const auto began = std::chrono::steady_clock::now();
  const auto until = o.duration_s > 0
                         ? began + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                       std::chrono::duration<double>(o.duration_s))
                         : std::chrono::steady_clock::time_point::max();
  bool scored = false;
  auto quiet_since = std::chrono::steady_clock::now();
  size_t last_count = 0;
  while (g_demo_stop == 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    tail.poll();
    int status = 0;
    if (sender > 0 && waitpid(sender, &status, WNOHANG) == sender) {
      sender = -1;
      quiet_since = std::chrono::steady_clock::now();
    }
    if (tail.distinct() != last_count) {
      last_count = tail.distinct();
      quiet_since = std::chrono::steady_clock::now();
    }
    // Sent and quiet for two seconds: the score.
    if (sender < 0 && !scored &&
        std::chrono::steady_clock::now() - quiet_since > std::chrono::seconds(2)) {
      scored = true;
      const std::string sent = read_all(dir / "simulate.log");
      const size_t last = sent.rfind("orbwatch simulate:");
      fmt::print("\nSent: {}", last == std::string::npos ? std::string("\n") : sent.substr(last));
      fmt::print("{} alerts ({} of low severity):\n", tail.distinct(), tail.lows());
      for (const auto& [detector, sev] : tail.by_detector()) {
        std::string s;
        for (const auto& [name, n] : sev) s += fmt::format(" {} {}", n, name);
        fmt::print("  {:<13}{}\n", detector, s);
      }
      std::vector<sim::Label> labels;
      std::vector<sim::EvalAlert> alerts;
      std::string error;
      if (sim::parse_labels(read_all(dir / "sim" / "labels.jsonl"), "labels.jsonl", labels,
                            error) &&
          sim::parse_alerts(read_all(dir / "alerts.jsonl"), "alerts.jsonl", alerts, error)) {
        sim::EvalOptions eo;
        eo.hosts = o.hosts;
        eo.days = o.days;
        fmt::print("\nEvery detector against the simulation's ground truth (orbwatch eval):\n{}",
                   sim::format_report(sim::evaluate(labels, alerts, eo), eo));
      }
      fmt::print("\nThe daemon keeps running: try the API above. Ctrl-C stops it.\n");
      std::fflush(stdout);
    }
  }
  if (sender > 0) reap(sender, SIGTERM, std::chrono::seconds(10));
  const int rc = reap(daemon, SIGTERM, std::chrono::seconds(60));
  tail.poll();
  fmt::print("orbwatch demo: stopped ({}); {}\n",
             rc == 0 ? "the daemon drained cleanly" : fmt::format("the daemon exited {}", rc),
             temporary ? "removing " + dir.string() : "data kept in " + dir.string());
  if (temporary) {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  return rc == 0 ? 0 : 1;
}

}  // namespace

void add_demo_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "Start the daemon on embedded defaults with a temporary data directory, feed it a "
      "simulated week with covert-network attacks, print the alerts as they fire and score "
      "them; Ctrl-C stops");
  cmd->add_option("--seed", o->seed, "simulation seed")->capture_default_str();
  cmd->add_option("--hosts", o->hosts, "simulated workstations")->capture_default_str();
  cmd->add_option("--days", o->days, "simulated days (ending now)")->capture_default_str();
  cmd->add_option("--rate", o->rate, "flows per second sent to the daemon")->capture_default_str();
  cmd->add_option("--http", o->http, "API address (a free port is taken when it is busy)")
      ->capture_default_str();
  cmd->add_option("--dir", o->dir, "data directory to use and keep (default: temporary)");
  cmd->add_option("--duration", o->duration_s, "stop after SECONDS (default: at Ctrl-C)");
  cmd->callback([o, &exit_code] { exit_code = run_demo(*o); });
}

}  // namespace orbwatch::cli
