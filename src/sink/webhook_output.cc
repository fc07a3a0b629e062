#include "sink/webhook_output.h"

#include <httplib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include <fmt/core.h>

#include "core/time.h"

namespace orbwatch::sink {
namespace {

namespace fs = std::filesystem;

// Spool files in replay order: NNNNNNNNNNNN.jsonl, numbered upwards.
std::vector<fs::path> spool_files(const std::string& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".jsonl") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

WebhookOutput::WebhookOutput(Options o) : o_(std::move(o)) {
  if (!o_.now_ms) o_.now_ms = wall_clock_ms;
  backoff_ms_ = o_.backoff_ms;
  const size_t scheme = o_.url.find("://");
  const bool http = o_.url.starts_with("http://") || o_.url.starts_with("https://");
  if (!http || o_.spool_dir.empty()) {
    stats_.last_error = o_.url + (http ? ": a spool directory is needed" : ": expected http(s)://");
    return;
  }
  const size_t path = o_.url.find('/', scheme + 3);
  origin_ = o_.url.substr(0, path);
  target_ = path == std::string::npos ? "/" : o_.url.substr(path);
  std::error_code ec;
  fs::create_directories(o_.spool_dir, ec);
  if (ec) {
    stats_.last_error = o_.spool_dir + ": " + ec.message();
    return;
  }
  valid_ = origin_.size() > scheme + 3;
  if (!valid_) stats_.last_error = o_.url + ": no host";
}

uint64_t WebhookOutput::spooled_bytes() const {
  uint64_t n = 0;
  std::error_code ec;
  for (const auto& f : spool_files(o_.spool_dir)) n += fs::file_size(f, ec);
  return n;
}

WebhookOutput::Post WebhookOutput::post(const std::string& json) {
  httplib::Client cli(origin_);
  if (!cli.is_valid()) {
    failed("unusable URL");
    return Post::kRetry;
  }
  const auto sec = static_cast<time_t>(o_.timeout_ms / 1000);
  const auto usec = static_cast<time_t>(o_.timeout_ms % 1000 * 1000);
  cli.set_connection_timeout(sec, usec);
  cli.set_read_timeout(sec, usec);
  cli.set_write_timeout(sec, usec);
  if (!o_.bearer_token.empty()) cli.set_bearer_token_auth(o_.bearer_token);
  auto res = cli.Post(target_, json, "application/json");
  if (!res) {
    failed(httplib::to_string(res.error()));
    return Post::kRetry;
  }
  if (res->status >= 200 && res->status < 300) return Post::kOk;
  if (res->status == 400 || res->status == 413 || res->status == 422) {
    ++stats_.errors;
    stats_.last_error =
        fmt::format("{}: HTTP {} (alert not accepted, dropped)", o_.url, res->status);
    return Post::kRejected;
  }
  failed(fmt::format("HTTP {}", res->status));
  return Post::kRetry;
}

void WebhookOutput::failed(const std::string& why) {
  ++stats_.errors;
  stats_.last_error = o_.url + ": " + why;
  retry_at_ms_ = o_.now_ms() + backoff_ms_;
  backoff_ms_ = std::min(o_.max_backoff_ms, backoff_ms_ * 2);
}

void WebhookOutput::spool(const std::string& line) {
  auto files = spool_files(o_.spool_dir);
  std::error_code ec;
  fs::path target;
  uint64_t number = 0;
  if (!files.empty()) {
    number = std::stoull(files.back().stem().string());
    if (fs::file_size(files.back(), ec) + line.size() <= o_.spool_file_bytes) target = files.back();
  }
  if (target.empty()) target = fs::path(o_.spool_dir) / fmt::format("{:012}.jsonl", number + 1);
  {
    std::ofstream out(target, std::ios::app | std::ios::binary);
    out << line;
    if (!out) {
      ++stats_.errors;
      ++stats_.dropped;
      stats_.last_error = target.string() + ": cannot write the spool";
      return;
    }
  }
  // Bounded: the oldest files go first, their alerts counted as dropped.
  files = spool_files(o_.spool_dir);
  uint64_t total = 0;
  for (const auto& f : files) total += fs::file_size(f, ec);
  for (size_t i = 0; total > o_.max_spool_bytes && i + 1 < files.size(); ++i) {
    std::ifstream in(files[i]);
    for (std::string l; std::getline(in, l);) ++stats_.dropped;
    total -= fs::file_size(files[i], ec);
    fs::remove(files[i], ec);
  }
}

void WebhookOutput::flush() {
  if (!valid_ || o_.now_ms() < retry_at_ms_) return;
  for (const auto& file : spool_files(o_.spool_dir)) {
    std::vector<std::string> lines;
    {
      std::ifstream in(file);
      for (std::string l; std::getline(in, l);)
        if (!l.empty()) lines.push_back(l);
    }
    size_t done = 0;
    for (; done < lines.size(); ++done) {
      const Post p = post(lines[done]);
      if (p == Post::kRetry) break;
      if (p == Post::kOk) {
        ++stats_.written;
      } else {
        ++stats_.dropped;
      }
    }
    std::error_code ec;
    if (done == lines.size()) {
      fs::remove(file, ec);
      continue;
    }
    // Keep what is left of this file (written aside, then renamed over it), and wait.
    const fs::path tmp = file.string() + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc | std::ios::binary);
      for (size_t i = done; i < lines.size(); ++i) out << lines[i] << '\n';
    }
    fs::rename(tmp, file, ec);
    return;
  }
  backoff_ms_ = o_.backoff_ms;  // the spool is empty: the receiver is back
}

void WebhookOutput::emit(const Alert& alert) {
  if (!valid_) {
    ++stats_.dropped;
    return;
  }
  std::string line;
  append_alert_line(line, alert, o_.ecs);
  flush();
  // In order: while older alerts wait in the spool, this one waits behind them.
  if (o_.now_ms() < retry_at_ms_ || !spool_files(o_.spool_dir).empty()) {
    spool(line);
    return;
  }
  std::string json = line;
  if (!json.empty() && json.back() == '\n') json.pop_back();
  switch (post(json)) {
    case Post::kOk:
      ++stats_.written;
      break;
    case Post::kRejected:
      ++stats_.dropped;
      break;
    case Post::kRetry:
      spool(line);
      break;
  }
}

}  // namespace orbwatch::sink
