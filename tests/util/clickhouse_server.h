// A ClickHouse server of the test's own (Debian's clickhouse-server) on 127.0.0.1: its own
// config, data directory and free ports under `dir`; killed and removed with this object.
#pragma once

#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "util/child_process.h"
#include "util/peer_tools.h"

namespace orbwatch::test {

class ClickHouseServer {
 public:
  static bool available() { return have_tool("clickhouse-server"); }

  explicit ClickHouseServer(std::filesystem::path dir)
      : dir_(std::move(dir)), http_port_(free_tcp_port()), tcp_port_(free_tcp_port()) {}
  ~ClickHouseServer() {
    child_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ClickHouseServer(const ClickHouseServer&) = delete;
  ClickHouseServer& operator=(const ClickHouseServer&) = delete;

  // Starts it (again, on the same data and port after kill()); true once it answers /ping.
  bool start(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    if (!configured_) {
      write_config();
      configured_ = true;
    }
    child_ = std::make_unique<Child>(std::vector<std::string>{
        "clickhouse-server", "--config-file=" + (dir_ / "config.xml").string()});
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      httplib::Client c("127.0.0.1", http_port_);
      c.set_connection_timeout(1, 0);
      if (auto r = c.Get("/ping"); r && r->status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }
  // A crash: SIGKILL, nothing flushed.
  void kill() { child_.reset(); }

  // A statement's answer (TabSeparated), or "ERROR: ..." when it fails.
  std::string ask(const std::string& sql) const {
    httplib::Client c("127.0.0.1", http_port_);
    c.set_read_timeout(30, 0);
    auto r = c.Post("/", sql, "text/plain");
    if (!r) return "ERROR: " + httplib::to_string(r.error());
    return r->status == 200 ? r->body : "ERROR: " + r->body;
  }

  // A cluster for Distributed tables (before start()): one shard per native port given.
  void add_cluster(std::string name, std::vector<uint16_t> shard_tcp_ports) {
    clusters_.emplace_back(std::move(name), std::move(shard_tcp_ports));
  }

  uint16_t http_port() const { return http_port_; }
  uint16_t tcp_port() const { return tcp_port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(http_port_); }
  std::string log() const {
    std::ifstream f(dir_ / "server.err.log");
    return std::string(std::istreambuf_iterator<char>(f), {});
  }

 private:
  void write_config() {
    std::filesystem::create_directories(dir_ / "data");
    const std::string d = dir_.string();
    std::ofstream(dir_ / "config.xml")
        << "<?xml version=\"1.0\"?>\n<yandex>\n"
        << "<logger><level>warning</level><log>" << d << "/server.log</log><errorlog>" << d
        << "/server.err.log</errorlog><size>10M</size><count>1</count></logger>\n"
        << "<http_port>" << http_port_ << "</http_port><tcp_port>" << tcp_port_
        << "</tcp_port>\n<listen_host>127.0.0.1</listen_host>\n"
        << "<max_connections>64</max_connections><keep_alive_timeout>3</keep_alive_timeout>\n"
        << "<max_concurrent_queries>16</max_concurrent_queries>\n"
        << "<uncompressed_cache_size>67108864</uncompressed_cache_size>"
        << "<mark_cache_size>67108864</mark_cache_size>\n"
        << "<path>" << d << "/data/</path><tmp_path>" << d << "/tmp/</tmp_path>\n"
        << "<user_files_path>" << d << "/user_files/</user_files_path>\n"
        << "<format_schema_path>" << d << "/format_schemas/</format_schema_path>\n"
        << "<users_config>" << d << "/users.xml</users_config>\n"
        << "<default_profile>default</default_profile><default_database>default"
        << "</default_database>\n<timezone>UTC</timezone><mlock_executable>false"
        << "</mlock_executable>\n"
        << remote_servers() << "</yandex>\n";
    // One user, default, without a password, from loopback only.
    std::ofstream(dir_ / "users.xml")
        << "<?xml version=\"1.0\"?>\n<yandex><profiles><default><max_memory_usage>2000000000"
        << "</max_memory_usage></default></profiles>\n<users><default><password></password>"
        << "<networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile>"
        << "<quota>default</quota></default></users>\n<quotas><default><interval><duration>3600"
        << "</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows>"
        << "<read_rows>0</read_rows><execution_time>0</execution_time></interval></default>"
        << "</quotas></yandex>\n";
  }

  std::string remote_servers() const {
    if (clusters_.empty()) return {};
    std::string out = "<remote_servers>";
    for (const auto& [name, ports] : clusters_) {
      out += "<" + name + ">";
      for (uint16_t p : ports)
        out += "<shard><replica><host>127.0.0.1</host><port>" + std::to_string(p) +
               "</port></replica></shard>";
      out += "</" + name + ">";
    }
    return out + "</remote_servers>\n";
  }

  std::filesystem::path dir_;
  uint16_t http_port_ = 0, tcp_port_ = 0;
  bool configured_ = false;
  std::vector<std::pair<std::string, std::vector<uint16_t>>> clusters_;
  std::unique_ptr<Child> child_;
};

}  // namespace orbwatch::test
