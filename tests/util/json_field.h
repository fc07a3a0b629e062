// One field of one of orbwatch's own flat JSON lines (alerts, flows), as text: end-to-end tests
// check values without a JSON library. Nested objects are searched too (the first match wins).
#pragma once

#include <string>

namespace orbwatch::test {

inline std::string json_field(const std::string& line, const std::string& key) {
  const std::string k = "\"" + key + "\":";
  size_t p = line.find(k);
  if (p == std::string::npos) return "(missing)";
  p += k.size();
  if (line[p] == '"') return line.substr(p + 1, line.find('"', p + 1) - p - 1);
  return line.substr(p, line.find_first_of(",}", p) - p);
}

}  // namespace orbwatch::test
