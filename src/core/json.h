// Minimal, fast JSON text output helpers (the output path; parsing uses simdjson elsewhere).
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace orbwatch::json {

// Appends s as a JSON string literal (with quotes). Control characters are escaped and invalid
// UTF-8 bytes become U+FFFD, so hostile input (SNI, exporter strings) cannot break the line.
void append_string(std::string& out, std::string_view s);

template <class Int>
inline void append_int(std::string& out, Int v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

}  // namespace orbwatch::json
