#include "kafka/client.h"

#include <string_view>

#include <fmt/core.h>

namespace orbwatch::kafka {

namespace {

// False with "NAME: reason".
bool set(rd_kafka_conf_t* c, const std::string& name, const std::string& value,
         std::string& error) {
  char reason[512];
  if (rd_kafka_conf_set(c, name.c_str(), value.c_str(), reason, sizeof reason) == RD_KAFKA_CONF_OK)
    return true;
  error = fmt::format("{}: {}", name, reason);
  return false;
}

}  // namespace

Conf make_conf(const std::string& brokers, const Properties& defaults, const Properties& properties,
               std::string& error) {
  Conf c(rd_kafka_conf_new());
  bool ok = true;
  for (const auto& [name, value] : defaults) ok = ok && set(c.get(), name, value, error);
  ok = ok && set(c.get(), "bootstrap.servers", brokers, error);
  for (const auto& [name, value] : properties) ok = ok && set(c.get(), name, value, error);
  if (ok) return c;
  error = "kafka: " + error;
  return nullptr;
}

Handle make_client(rd_kafka_type_t type, Conf& conf, std::string& error) {
  char reason[512];
  Handle rk(rd_kafka_new(type, conf.get(), reason, sizeof reason));
  if (!rk) {
    error = fmt::format("kafka: {}", reason);
    return nullptr;
  }
  (void)conf.release();  // rd_kafka_new owns it now (only on success)
  return rk;
}

bool check_property(const std::string& name, const std::string& value, std::string& error) {
  Conf c(rd_kafka_conf_new());
  return set(c.get(), name, value, error);
}

bool valid_brokers(const std::string& brokers) {
  if (brokers.empty()) return false;
  std::string_view rest = brokers;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view b = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (b.starts_with("PLAINTEXT://") || b.starts_with("SSL://") ||
        b.starts_with("SASL_PLAINTEXT://") || b.starts_with("SASL_SSL://"))
      b = b.substr(b.find("://") + 3);
    const size_t colon = b.rfind(':');
    if (colon == 0 || colon == std::string_view::npos || colon + 1 == b.size()) return false;
    for (char ch : b.substr(colon + 1))
      if (ch < '0' || ch > '9') return false;
  }
  return true;
}

}  // namespace orbwatch::kafka
