// The only detect file that includes toml++ (slow to compile).
#include "detect/detector_config.h"

#include "intel/toml_support.h"

namespace orbwatch::detect {

namespace {

// A parameter value as the factories read it: strings as they are, numbers and booleans as
// text.
std::optional<std::string> text_of(const toml::node& n) {
  if (auto s = n.value_exact<std::string>()) return *s;
  if (auto i = n.value_exact<int64_t>()) return std::to_string(*i);
  if (auto b = n.value_exact<bool>()) return *b ? "true" : "false";
  return std::nullopt;
}

std::string where(const std::string& path, const toml::source_region& r) {
  return path + ":" + std::to_string(r.begin.line) + ": ";
}

}  // namespace

std::optional<DetectorSettings> parse_detector_settings(std::string_view text,
                                                        const std::string& path,
                                                        std::vector<std::string>& errors) {
  auto doc = intel::parse_toml(text, path, errors);
  if (!doc) return std::nullopt;
  DetectorSettings out;
  const toml::node* section = doc->get("detectors");
  if (section == nullptr) return out;
  const size_t before = errors.size();
  const toml::table* t = section->as_table();
  if (t == nullptr) {
    errors.push_back(where(path, section->source()) +
                     "detectors: expected [detectors.NAME] tables");
    return std::nullopt;
  }
  for (const auto& [name, value] : *t) {
    const DetectorInfo* info = find_detector(name.str());
    const toml::table* params = value.as_table();
    if (info == nullptr || params == nullptr) {
      std::string known;
      for (const auto& d : all_detectors())
        known += (known.empty() ? "" : ", ") + std::string(d.name);
      errors.push_back(where(path, name.source()) + "detectors." + std::string(name.str()) +
                       (info == nullptr ? ": no such detector (expected one of " + known + ")"
                                        : ": expected a table of parameters"));
      continue;
    }
    DetectorParams& p = out[std::string(name.str())];
    for (const auto& [key, v] : *params) {
      auto s = text_of(v);
      // Each parameter alone through the factory: its error then belongs to this line.
      std::string error;
      if (s) info->make({{std::string(key.str()), *s}}, error);
      if (!s || !error.empty()) {
        errors.push_back(where(path, key.source()) + "detectors." +
                         (s ? error
                            : std::string(name.str()) + "." + std::string(key.str()) +
                                  ": expected a string, number or boolean"));
        continue;
      }
      p[std::string(key.str())] = *s;
    }
  }
  if (errors.size() != before) return std::nullopt;
  return out;
}

std::optional<DetectorSettings> load_detector_settings(const std::string& path,
                                                       std::vector<std::string>& errors) {
  auto text = intel::read_config_file(path, errors);
  if (!text) return std::nullopt;
  return parse_detector_settings(*text, path, errors);
}

}  // namespace orbwatch::detect
