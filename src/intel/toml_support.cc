#include "intel/toml_support.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
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

std::optional<std::string> read_config_file(const std::string& path,
                                            std::vector<std::string>& errors) {
  constexpr uintmax_t kMaxConfigBytes = 16u << 20;
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  std::ifstream in(path, std::ios::binary);
  if (ec || !in) {
    errors.push_back(path + ": cannot open the config file");
    return std::nullopt;
  }
  if (size > kMaxConfigBytes) {
    errors.push_back(path + ": larger than 16 MiB, not a config file");
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

std::optional<toml::table> parse_toml(std::string_view text, const std::string& path,
                                      std::vector<std::string>& errors) {
  try {
    return toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    errors.push_back(path + ":" + std::to_string(e.source().begin.line) + ": " +
                     std::string(e.description()));
    return std::nullopt;
  }
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
