#include "server/web_ui.h"

#include <array>
#include <mutex>

#include "core/gzip.h"

#ifdef ORBWATCH_WEB_DIST
#include "web_assets_hash.h"

// The files go into .rodata as they are (.incbin), without a generated C++ array to compile.
#define ORBWATCH_INCBIN(sym, file)                                                                 \
  __asm__(                                                                                         \
      ".section .rodata.orbwatch_web,\"a\",@progbits\n"                                            \
      ".balign 16\n.global " #sym "_begin\n" #sym "_begin:\n.incbin \"" ORBWATCH_WEB_DIST "/" file \
      "\"\n.global " #sym "_end\n" #sym "_end:\n.byte 0\n.previous\n");
ORBWATCH_INCBIN(orbwatch_web_index, "index.html")
ORBWATCH_INCBIN(orbwatch_web_js, "app.js")
ORBWATCH_INCBIN(orbwatch_web_css, "app.css")
extern "C" const char orbwatch_web_index_begin[], orbwatch_web_index_end[];
extern "C" const char orbwatch_web_js_begin[], orbwatch_web_js_end[];
extern "C" const char orbwatch_web_css_begin[], orbwatch_web_css_end[];
#endif

namespace orbwatch::server {

namespace {

#ifdef ORBWATCH_WEB_DIST
std::string_view span(const char* begin, const char* end) {
  return {begin, static_cast<size_t>(end - begin)};
}
const std::array<WebAsset, 3> kAssets = {{
    {"/", "text/html; charset=utf-8", span(orbwatch_web_index_begin, orbwatch_web_index_end)},
    {"/app.js", "text/javascript; charset=utf-8", span(orbwatch_web_js_begin, orbwatch_web_js_end)},
    {"/app.css", "text/css; charset=utf-8", span(orbwatch_web_css_begin, orbwatch_web_css_end)},
}};
#else
const std::array<WebAsset, 0> kAssets = {};
#endif

// Text for inside a <script> element: "</script" and "<!--" cannot end or confuse it.
void append_script_safe(std::string& out, std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<' && (text.substr(i, 8) == "</script" || text.substr(i, 8) == "</SCRIPT" ||
                           text.substr(i, 4) == "<!--")) {
      out += "<\\";
      continue;
    }
    out += text[i];
  }
}

}  // namespace

std::span<const WebAsset> web_assets() {
  return kAssets;
}

const WebAsset* find_web_asset(std::string_view path) {
  if (path == "/index.html") path = "/";
  for (const WebAsset& a : kAssets)
    if (a.path == path) return &a;
  return nullptr;
}

std::string_view gzipped(const WebAsset& a) {
  static std::mutex mu;
  static std::array<std::string, 3> done;
  const size_t i = static_cast<size_t>(&a - kAssets.data());
  std::lock_guard lock(mu);
  if (i >= done.size()) return {};
  std::string& out = done[i];
  if (!out.empty() || a.body.empty()) return out;
  out = gzip(a.body, 9);
  return out;
}

std::string_view web_assets_hash() {
#ifdef ORBWATCH_WEB_DIST
  return ORBWATCH_WEB_HASH;
#else
  return "none";
#endif
}

bool report_html(std::string_view title, std::string_view data_json, std::string& out,
                 std::string& error) {
  const WebAsset* js = find_web_asset("/app.js");
  const WebAsset* css = find_web_asset("/app.css");
  if (js == nullptr || css == nullptr) {
    error =
        "this orbwatch was built without the web dashboard (npm was missing or ORBWATCH_UI=OFF), "
        "so it cannot write an HTML report";
    return false;
  }
  out.clear();
  out.reserve(js->body.size() + css->body.size() + data_json.size() + 1024);
  out +=
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">"
      "<meta name=\"generator\" content=\"orbwatch\"><title>";
  for (char c : title) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  out += "</title><style>";
  append_script_safe(out, css->body);
  out +=
      "</style></head><body><div id=\"app\"></div>\n"
      "<script id=\"orbwatch-report\" type=\"application/json\">";
  // JSON with every '<' escaped cannot close the element; the app parses it as JSON, never runs it.
  for (char c : data_json) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  out += "</script>\n<script type=\"module\">";
  append_script_safe(out, js->body);
  out += "</script></body></html>\n";
  return true;
}

}  // namespace orbwatch::server
