// The dashboard's files (web/, built by Vite and embedded in the binary) and the offline report
// that inlines them (`orbwatch analyze --report`).
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace orbwatch::server {

struct WebAsset {
  std::string_view path;  // "/", "/app.js", "/app.css"
  std::string_view content_type;
  std::string_view body;
};

// Empty when the build had no npm (ORBWATCH_UI=OFF).
std::span<const WebAsset> web_assets();
const WebAsset* find_web_asset(std::string_view path);
// Changes whenever the assets do (the HTTP ETag).
std::string_view web_assets_hash();
// The asset gzip-compressed (once, at the first call; thread-safe).
std::string_view gzipped(const WebAsset& a);

// One self-contained HTML file: the dashboard's script and style inline, `data_json` (the
// report's data, docs/formats.md) in a JSON script element, a Content-Security-Policy that
// allows no network access. False (with `error`) when the build has no dashboard.
bool report_html(std::string_view title, std::string_view data_json, std::string& out,
                 std::string& error);

}  // namespace orbwatch::server
