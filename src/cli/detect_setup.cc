#include "cli/detect_setup.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/core.h>

#include "detect/detector_config.h"
#include "detect/registry.h"
#include "enrich/enrich_config.h"
#include "intel/feed_parser.h"

namespace orbwatch::cli {

bool load_feed_files(const std::vector<std::string>& paths, int64_t now_ms,
                     std::vector<std::shared_ptr<const intel::LoadedFeed>>& out,
                     std::vector<std::string>& warnings, std::string& error) {
  std::map<std::string, int> names;
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      error = fmt::format("--feed {}: cannot open", path);
      return false;
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto feed = std::make_shared<intel::LoadedFeed>();
    feed->parsed = intel::parse_feed(text.str(), intel::FeedFormat::kAuto, path);
    if (feed->parsed.format == intel::FeedFormat::kAuto) {
      error =
          fmt::format("--feed {}: cannot tell the feed's format (see orbwatch feeds lint)", path);
      return false;
    }
    if (feed->parsed.indicators.empty()) {
      error = fmt::format("--feed {}: no indicators found (read as {}; see orbwatch feeds lint)",
                          path, intel::feed_format_name(feed->parsed.format));
      return false;
    }
    std::string name = std::filesystem::path(path).stem().string();
    if (int n = ++names[name]; n > 1) name += fmt::format("-{}", n);
    feed->config.name = name;
    feed->config.source = path;
    feed->config.format = feed->parsed.format;
    feed->loaded_ms = now_ms;
    const auto& p = feed->parsed;
    if (p.bad != 0) {
      std::string first;
      for (const auto& issue : p.issues) {
        if (issue.level == intel::ParseIssue::Level::kError) {
          first = issue.message;
          break;
        }
      }
      warnings.push_back(
          fmt::format("feed {}: {} bad lines dropped (first: {})", path, p.bad, first));
    }
    out.push_back(std::move(feed));
  }
  return true;
}

bool make_detectors(const std::string& config_path, const std::vector<std::string>& settings,
                    std::vector<std::unique_ptr<detect::Detector>>& out, std::string& error) {
  detect::DetectorSettings params;
  if (!config_path.empty()) {
    std::vector<std::string> errors;
    auto from_file = detect::load_detector_settings(config_path, errors);
    if (!from_file) {
      for (const auto& e : errors) error += (error.empty() ? "" : "\n") + e;
      return false;
    }
    params = std::move(*from_file);
  }
  for (const auto& s : settings) {
    const size_t dot = s.find('.');
    const size_t eq = s.find('=');
    if (dot == std::string::npos || eq == std::string::npos || dot > eq || dot == 0 ||
        eq == dot + 1) {
      error = fmt::format("--param '{}': expected detector.name=value, e.g. intel.window=2h", s);
      return false;
    }
    std::string detector = s.substr(0, dot);
    if (detect::find_detector(detector) == nullptr) {
      error = fmt::format("--param '{}': no detector named '{}'", s, detector);
      return false;
    }
    params[detector][s.substr(dot + 1, eq - dot - 1)] = s.substr(eq + 1);
  }
  for (const auto& info : detect::all_detectors()) {
    auto it = params.find(info.name);
    auto d = info.make(it == params.end() ? detect::DetectorParams{} : it->second, error);
    if (!d) {
      error = "--param " + error;
      return false;
    }
    out.push_back(std::move(d));
  }
  return true;
}

bool load_network_model(const std::string& config_path, const std::vector<std::string>& internal,
                        std::shared_ptr<const netmodel::ModelIndex>& out, std::string& error) {
  netmodel::Model model;
  if (!config_path.empty()) {
    std::vector<std::string> errors;
    auto m = netmodel::load_model(config_path, errors);
    if (!m) {
      for (const auto& e : errors) error += (error.empty() ? "" : "\n") + e;
      return false;
    }
    model = std::move(*m);
  }
  if (!internal.empty()) {
    model.internal.clear();
    for (const auto& c : internal) {
      auto p = Prefix::parse(c);
      if (!p) {
        error = fmt::format("--internal '{}': expected a CIDR such as 10.0.0.0/8", c);
        return false;
      }
      model.internal.push_back(Prefix::make(p->addr, p->len));
    }
  }
  out = netmodel::ModelIndex::build(std::move(model));
  return true;
}

bool load_geo(const std::string& config_path, const std::vector<std::string>& files,
              std::shared_ptr<const enrich::GeoDb>& out, std::vector<std::string>& warnings,
              std::string& error) {
  enrich::GeoSources sources;
  std::vector<std::string> errors;
  if (!config_path.empty()) {
    auto s = enrich::load_enrich_config(config_path, errors);
    if (!s) {
      for (const auto& e : errors) error += (error.empty() ? "" : "\n") + e;
      return false;
    }
    sources = std::move(*s);
  }
  sources.files.insert(sources.files.end(), files.begin(), files.end());
  if (sources.files.empty()) return true;
  out = enrich::GeoDb::load(sources, errors, warnings);
  for (const auto& e : errors) error += (error.empty() ? "" : "\n") + e;
  return out != nullptr;
}

std::string geo_summary(const enrich::GeoDb& db) {
  const auto& s = db.stats();
  using enrich::AsType;
  auto n = [&](AsType t) { return s.by_type[static_cast<size_t>(t)]; };
  return fmt::format(
      "geo       {} AS ranges, {} ASes ({} hosting, {} residential, {} business, {} unknown), {} "
      "country ranges{}",
      s.asn_ranges, s.ases, n(AsType::kHosting), n(AsType::kResidential), n(AsType::kBusiness),
      n(AsType::kUnknown), s.country_ranges,
      s.bad_lines ? fmt::format(" ({} malformed lines skipped)", s.bad_lines) : "");
}

}  // namespace orbwatch::cli
