#include "intel/toml_support.h"

#include <algorithm>
#include <sstream>

#include "core/json.h"

namespace orbwatch::intel {

std::string describe_toml(const toml::node& node) {
  if (node.is_table()) return "a table";
  if (node.is_array()) return "an array";
  if (const auto* str = node.as_string()) {
    std::string quoted;
    orbwatch::json::append_string(quoted, str->get());
    return quoted.size() > 60 ? quoted.substr(0, 56) + "...\"" : quoted;
  }
  std::ostringstream os;
  node.visit([&os](const auto& v) { os << v; });
  std::string s = std::move(os).str();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

bool ConfigProblems::report() {
  constexpr size_t kMaxErrors = 100;
  // toml++ hands out keys sorted by name: line order reads best.
  std::stable_sort(found_.begin(), found_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [line, message] : found_) {
    if (errors_.size() == kMaxErrors) {
      errors_.push_back(path_ + ": " + std::to_string(found_.size() - kMaxErrors) +
                        " more problems not listed");
      break;
    }
    errors_.push_back(path_ + ":" + std::to_string(line) + ": " + message);
  }
  return found_.empty();
}

}  // namespace orbwatch::intel
