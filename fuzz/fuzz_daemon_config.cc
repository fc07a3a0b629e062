// Fuzzes the daemon's config tables ([collect], [store], [http], [[outputs]]): toml++ and the
// key checks after it. A config either loads, valid in every field the daemon relies on, or
// fails with at least one message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/daemon_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace orbwatch::server;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> errors;
  auto c = parse_daemon_config(text, "/etc/orbwatch/orbwatch.toml", errors);
  if (c.has_value() != errors.empty()) __builtin_trap();
  if (!c) return 0;
  if (c->sockets_per_listen < 1 || c->detect_queue < 1 || c->store_path.empty()) __builtin_trap();
  if (c->state_interval_ms <= 0 || c->archive_options.flush_interval_ms <= 0) __builtin_trap();
  std::string host;
  uint16_t port = 0;
  if (!c->http_listen.empty() && (!parse_host_port(c->http_listen, host, port) ||
                                  (!is_loopback_host(host) && c->token.empty())))
    __builtin_trap();
  for (const OutputConfig& o : c->outputs) {
    if (o.type == OutputConfig::Type::kJsonl && o.path.empty()) __builtin_trap();
    if (o.type == OutputConfig::Type::kKafka) {
      if (!orbwatch::kafka::valid_brokers(o.brokers)) __builtin_trap();
    } else if (o.type != OutputConfig::Type::kJsonl && o.url.empty()) {
      __builtin_trap();
    }
  }
  if (c->kafka && (!orbwatch::kafka::valid_brokers(c->kafka->brokers) || c->kafka->topics.empty()))
    __builtin_trap();
  return 0;
}
