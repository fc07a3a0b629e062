// The only enrich file that includes toml++ (slow to compile).
#include "enrich/enrich_config.h"

#include <filesystem>

#include "intel/toml_support.h"

namespace orbwatch::enrich {

std::optional<GeoSources> parse_enrich_config(std::string_view text, const std::string& path,
                                              std::vector<std::string>& errors) {
  auto doc = intel::parse_toml(text, path, errors);
  if (!doc) return std::nullopt;
  GeoSources out;
  const toml::node* section = doc->get("enrich");
  if (section == nullptr) return out;
  intel::ConfigProblems problems(path, errors);
  const toml::table* t = section->as_table();
  if (t == nullptr) {
    problems.add(section->source(), "enrich: expected a table");
    problems.report();
    return std::nullopt;
  }
  const std::filesystem::path base = std::filesystem::path(path).parent_path();
  for (const auto& [key, value] : *t) {
    const std::string k(key.str());
    if (k == "databases") {
      const toml::array* a = value.as_array();
      if (a == nullptr) {
        problems.add(value.source(), "enrich.databases: expected a list of file names, got " +
                                         intel::describe_toml(value));
        continue;
      }
      for (size_t i = 0; i < a->size(); ++i) {
        auto s = (*a)[i].value_exact<std::string>();
        if (!s || s->empty()) {
          problems.add((*a)[i].source(), "enrich.databases[" + std::to_string(i + 1) +
                                             "]: expected a file name, got " +
                                             intel::describe_toml((*a)[i]));
          continue;
        }
        const std::filesystem::path p(*s);
        out.files.push_back(p.is_absolute() ? *s : (base / p).string());
      }
    } else if (k == "as_types") {
      const toml::table* types = value.as_table();
      if (types == nullptr) {
        problems.add(value.source(), "enrich.as_types: expected a table of type = [AS numbers]");
        continue;
      }
      for (const auto& [tname, list] : *types) {
        const auto type = parse_as_type(tname.str());
        const toml::array* a = list.as_array();
        if (!type || *type == AsType::kUnknown || a == nullptr) {
          problems.add(tname.source(),
                       "enrich.as_types." + std::string(tname.str()) +
                           (type && *type != AsType::kUnknown
                                ? ": expected a list of AS numbers"
                                : ": unknown type (expected hosting, residential or business)"));
          continue;
        }
        for (size_t i = 0; i < a->size(); ++i) {
          auto n = (*a)[i].value_exact<int64_t>();
          if (!n || *n <= 0 || *n > UINT32_MAX) {
            problems.add((*a)[i].source(), "enrich.as_types." + std::string(tname.str()) + "[" +
                                               std::to_string(i + 1) +
                                               "]: expected an AS number, got " +
                                               intel::describe_toml((*a)[i]));
            continue;
          }
          out.as_types[static_cast<uint32_t>(*n)] = *type;
        }
      }
    } else {
      problems.add(key.source(), "enrich." + k + ": unknown key (expected databases, as_types)");
    }
  }
  if (!problems.report()) return std::nullopt;
  return out;
}

std::optional<GeoSources> load_enrich_config(const std::string& path,
                                             std::vector<std::string>& errors) {
  auto text = intel::read_config_file(path, errors);
  if (!text) return std::nullopt;
  return parse_enrich_config(*text, path, errors);
}

}  // namespace orbwatch::enrich
