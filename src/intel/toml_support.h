// What every reader of the TOML config file shares (feeds here, the network model in netmodel):
// a value as the user wrote it, for "expected X, got Y", and the list of problems, reported in
// line order with the file name. Include only from the .cc files that read TOML (toml++ is slow
// to compile).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

namespace orbwatch::intel {

// A value as the user wrote it ("\"soon\"", "12", "a table"); long ones are cut.
std::string describe_toml(const toml::node& node);

// The text of a config file (at most 16 MiB); nullopt with one message in `errors`.
std::optional<std::string> read_config_file(const std::string& path,
                                            std::vector<std::string>& errors);

// The document, or nullopt with the syntax error in `errors` ("orbwatch.toml:3: ...").
std::optional<toml::table> parse_toml(std::string_view text, const std::string& path,
                                      std::vector<std::string>& errors);

// Problems found while reading one file; report() appends them to `errors` sorted by line
// ("orbwatch.toml:12: feeds[2].refresh: ..."), at most 100 listed.
class ConfigProblems {
 public:
  ConfigProblems(std::string path, std::vector<std::string>& errors)
      : path_(std::move(path)), errors_(errors) {}
  void add(uint32_t line, std::string message) { found_.emplace_back(line, std::move(message)); }
  void add(const toml::source_region& where, std::string message) {
    add(where.begin.line, std::move(message));
  }
  // True when there was none.
  bool report();

 private:
  std::string path_;
  std::vector<std::string>& errors_;
  std::vector<std::pair<uint32_t, std::string>> found_;
};

}  // namespace orbwatch::intel
