// Internal helpers shared by the STIX and MISP parsers (not part of the intel API): one simdjson
// DOM parser with a depth and size limit, typed field access through simdjson's error codes (no
// exceptions), and the value checks both formats need.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "core/ip_addr.h"

namespace orbwatch::intel::json {

// Nesting deeper than this is rejected (DEPTH_ERROR); real STIX/MISP documents nest < 10 deep.
inline constexpr size_t kMaxDepth = 64;
// One JSON document (a whole bundle, or one JSON line) may be at most this large. The DOM parser
// needs about 15 bytes per input byte in the worst case (8-byte tape entry and 4-byte structural
// index per byte, 5/3 for strings, plus the padded copy), so this caps memory near 500 MB; JSON
// lines files of any size are read one line at a time.
inline constexpr size_t kMaxDocumentBytes = size_t{32} << 20;

// A simdjson DOM parser set up with the limits above. simdjson reads up to SIMDJSON_PADDING bytes
// past the end of its input, and a string_view promises nothing past its end, so parse() lets
// simdjson copy each document into its own padded buffer (reused across calls): one extra copy
// of the document, bounded by kMaxDocumentBytes.
class DomReader {
 public:
  DomReader();
  // Parses `text`; on failure returns the error and leaves `root` untouched.
  simdjson::error_code parse(std::string_view text, simdjson::dom::element& root);

 private:
  simdjson::dom::parser parser_;
  simdjson::error_code init_error_ = simdjson::SUCCESS;
};

// "JSON nesting deeper than 64 levels", "invalid UTF-8", "document of 104857600 bytes is larger
// than the 33554432-byte limit", else simdjson's own message.
std::string describe_error(simdjson::error_code e, size_t document_bytes);

const char* type_name(simdjson::dom::element_type t);

enum class Field : uint8_t { kOk, kMissing, kWrongType };

// Reads obj[key] as the given type. kMissing also covers JSON null. On kWrongType `why` holds
// "'key': expected a string, got number".
Field get_string(simdjson::dom::object obj, std::string_view key, std::string_view& out,
                 std::string& why);
Field get_bool(simdjson::dom::object obj, std::string_view key, bool& out, std::string& why);
Field get_int(simdjson::dom::object obj, std::string_view key, int64_t& out, std::string& why);
Field get_array(simdjson::dom::object obj, std::string_view key, simdjson::dom::array& out,
                std::string& why);
Field get_object(simdjson::dom::object obj, std::string_view key, simdjson::dom::object& out,
                 std::string& why);

// Lower case, one trailing dot removed; labels of 1..63 [a-z0-9_-] characters, at most 253 in
// all. nullopt with `why` otherwise (IP literals, wildcards, spaces, non-ASCII).
std::optional<std::string> normalize_domain(std::string_view text, std::string& why);

// An address or CIDR. `host_bits` is set when the CIDR had bits set past its length (the result
// is masked). nullopt when it is neither.
std::optional<Prefix> parse_prefix(std::string_view text, bool& host_bits);

// Appends `tag` unless empty or already present.
void add_tag(std::vector<std::string>& tags, std::string_view tag);

// Shortens a value for a message: at most 80 bytes, control bytes escaped.
std::string quote(std::string_view value);

}  // namespace orbwatch::intel::json
