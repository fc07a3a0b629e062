// What detector tests share: a sink that keeps every alert (and the latest version of each id)
// and the text of one evidence value.
#pragma once

#include <map>
#include <string>
#include <variant>
#include <vector>

#include "core/alert.h"

namespace orbwatch::test {

class CollectAlerts final : public AlertSink {
 public:
  void emit(const Alert& a) override { all.push_back(a); }
  // The latest version of each alert id, in order of first appearance.
  std::vector<Alert> latest() const {
    std::vector<Alert> out;
    std::map<std::string, size_t> at;
    for (const auto& a : all) {
      auto [it, fresh] = at.emplace(a.id, out.size());
      if (fresh) {
        out.push_back(a);
      } else {
        out[it->second] = a;
      }
    }
    return out;
  }
  std::vector<Alert> all;
};

// An evidence value as text ("(none)" when the alert has no such key).
inline std::string evidence(const Alert& a, const std::string& key) {
  for (const auto& [k, v] : a.evidence) {
    if (k != key) continue;
    if (auto* s = std::get_if<std::string>(&v)) return *s;
    if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  }
  return "(none)";
}

}  // namespace orbwatch::test
