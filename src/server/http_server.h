// The daemon's HTTP server (cpp-httplib): the REST API under /api/v1/ (docs/api.md), /metrics
// for Prometheus, the dashboard at /. A bearer token, when configured, is required on every
// path but the dashboard's files (they hold no data; the dashboard sends the token); TLS when a
// certificate is configured.
//
// Threading: start() and stop() from the owning thread; requests run on httplib's pool and
// read the pipeline through its thread-safe calls; the alert store gets its own connection.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "intel/feed_cache.h"
#include "server/confirmed.h"
#include "server/flow_source.h"
#include "server/pipeline.h"
#include "store/alert_store.h"

namespace httplib {
class Server;
}

namespace orbwatch::server {

struct HttpOptions {
  std::string listen = "127.0.0.1:8080";
  std::string token;  // empty: no authentication (loopback only, see daemon_config)
  std::string tls_cert, tls_key;
  std::string store_path;
  // Where the flow endpoints read (null: the archive under store_path).
  std::shared_ptr<const FlowSource> flows;
  std::string version;
  std::string name = "orbwatch";  // who shares: the STIX identity, the TAXII title
};

class HttpServer {
 public:
  using FeedStatusFn = std::function<std::vector<intel::FeedStatus>()>;
  HttpServer(HttpOptions o, Pipeline& pipeline, const SnapshotHolder<intel::IntelSet>& intel,
             FeedStatusFn feeds);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving; false with a one-line reason.
  bool start(std::string& error);
  int port() const { return port_; }
  void stop();
  // For /metrics: the archive's size, measured by the owner now and then (a directory walk).
  void set_archive_bytes(uint64_t bytes) { archive_bytes_.store(bytes); }

 private:
  void routes();
  void share_routes();  // /edl/ and /taxii2/
  void view_routes();   // the dashboard's views of the API (http_views.cc)
  void ui_routes();     // the dashboard's files
  // The confirmed addresses of the alerts since `since_ms` (the alert store's connection).
  std::vector<Confirmed> confirmed(int64_t since_ms, std::string& error);
  HttpOptions o_;
  Pipeline& pipeline_;
  const SnapshotHolder<intel::IntelSet>& intel_;
  FeedStatusFn feeds_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<uint64_t> archive_bytes_{0};
  std::mutex store_mu_;  // one connection for every request thread
  store::AlertStore alerts_;
  std::shared_ptr<const FlowSource> flows_;
};

}  // namespace orbwatch::server
