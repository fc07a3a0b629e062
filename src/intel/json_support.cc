#include "intel/json_support.h"

#include <algorithm>

namespace orbwatch::intel::json {

namespace dom = simdjson::dom;
using simdjson::error_code;

DomReader::DomReader() : parser_(kMaxDocumentBytes) {
  // Sets the depth limit; later growth (ensure_capacity) keeps it.
  init_error_ = parser_.allocate(simdjson::dom::MINIMAL_DOCUMENT_CAPACITY, kMaxDepth);
}

error_code DomReader::parse(std::string_view text, dom::element& root) {
  if (init_error_ != simdjson::SUCCESS) return init_error_;
  // Checked here too so an oversized input is refused before simdjson copies it.
  if (text.size() > kMaxDocumentBytes) return simdjson::CAPACITY;
  return parser_.parse(text.data(), text.size(), /*realloc_if_needed=*/true).get(root);
}

std::string describe_error(error_code e, size_t document_bytes) {
  switch (e) {
    case simdjson::DEPTH_ERROR:
      return "JSON nesting deeper than " + std::to_string(kMaxDepth) + " levels";
    case simdjson::CAPACITY:
      return "document of " + std::to_string(document_bytes) + " bytes is larger than the " +
             std::to_string(kMaxDocumentBytes) + "-byte limit";
    case simdjson::UTF8_ERROR:
      return "invalid UTF-8 in the JSON text";
    case simdjson::EMPTY:
      return "no JSON value (empty or only whitespace)";
    default:
      return std::string("invalid JSON: ") + simdjson::error_message(e);
  }
}

const char* type_name(dom::element_type t) {
  switch (t) {
    case dom::element_type::ARRAY:
      return "array";
    case dom::element_type::OBJECT:
      return "object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE:
      return "number";
    case dom::element_type::STRING:
      return "string";
    case dom::element_type::BOOL:
      return "boolean";
    case dom::element_type::NULL_VALUE:
      return "null";
  }
  return "?";
}

namespace {

// Finds obj[key]; kMissing for absent or null.
Field lookup(dom::object obj, std::string_view key, dom::element& el) {
  if (obj.at_key(key).get(el) != simdjson::SUCCESS) return Field::kMissing;
  if (el.is_null()) return Field::kMissing;
  return Field::kOk;
}

Field wrong(std::string_view key, const char* expected, dom::element el, std::string& why) {
  why = "'" + std::string(key) + "': expected " + expected + ", got " + type_name(el.type());
  return Field::kWrongType;
}

}  // namespace

Field get_string(dom::object obj, std::string_view key, std::string_view& out, std::string& why) {
  dom::element el;
  if (lookup(obj, key, el) != Field::kOk) return Field::kMissing;
  if (el.get_string().get(out) != simdjson::SUCCESS) return wrong(key, "a string", el, why);
  return Field::kOk;
}

Field get_bool(dom::object obj, std::string_view key, bool& out, std::string& why) {
  dom::element el;
  if (lookup(obj, key, el) != Field::kOk) return Field::kMissing;
  if (el.get_bool().get(out) != simdjson::SUCCESS) return wrong(key, "a boolean", el, why);
  return Field::kOk;
}

Field get_int(dom::object obj, std::string_view key, int64_t& out, std::string& why) {
  dom::element el;
  if (lookup(obj, key, el) != Field::kOk) return Field::kMissing;
  if (el.get_int64().get(out) != simdjson::SUCCESS) return wrong(key, "an integer", el, why);
  return Field::kOk;
}

Field get_array(dom::object obj, std::string_view key, dom::array& out, std::string& why) {
  dom::element el;
  if (lookup(obj, key, el) != Field::kOk) return Field::kMissing;
  if (el.get_array().get(out) != simdjson::SUCCESS) return wrong(key, "an array", el, why);
  return Field::kOk;
}

Field get_object(dom::object obj, std::string_view key, dom::object& out, std::string& why) {
  dom::element el;
  if (lookup(obj, key, el) != Field::kOk) return Field::kMissing;
  if (el.get_object().get(out) != simdjson::SUCCESS) return wrong(key, "an object", el, why);
  return Field::kOk;
}

std::optional<std::string> normalize_domain(std::string_view text, std::string& why) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty()) {
    why = "empty domain name";
    return std::nullopt;
  }
  if (text.size() > 253) {
    why = "domain name longer than 253 characters";
    return std::nullopt;
  }
  if (IpAddr::parse(text)) {
    why = "'" + quote(text) + "' is an address, not a domain name";
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size());
  size_t label = 0;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '.') {
      if (label == 0) {
        why = "'" + quote(text) + "': empty label in domain name";
        return std::nullopt;
      }
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
      if (++label > 63) {
        why = "'" + quote(text) + "': domain label longer than 63 characters";
        return std::nullopt;
      }
    } else {
      why = "'" + quote(text) + "': not a domain name (character '" +
            quote(std::string_view(&c, 1)) + "'; internationalised names must be in punycode)";
      return std::nullopt;
    }
    out += c;
  }
  return out;
}

std::optional<Prefix> parse_prefix(std::string_view text, bool& host_bits) {
  host_bits = false;
  auto p = Prefix::parse(text);
  if (!p) return std::nullopt;
  auto slash = text.find('/');
  if (slash != std::string_view::npos) {
    auto a = IpAddr::parse(text.substr(0, slash));
    host_bits = a && *a != p->addr;
  }
  return p;
}

void add_tag(std::vector<std::string>& tags, std::string_view tag) {
  if (tag.empty()) return;
  if (std::find(tags.begin(), tags.end(), tag) != tags.end()) return;
  tags.emplace_back(tag);
}

std::string quote(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  size_t n = std::min<size_t>(value.size(), 80);
  for (size_t i = 0; i < n; ++i) {
    auto u = static_cast<unsigned char>(value[i]);
    if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += value[i];
    }
  }
  if (value.size() > n) out += "...";
  return out;
}

}  // namespace orbwatch::intel::json
