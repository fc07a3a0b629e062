#include "intel/feed_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <variant>

#include "core/json.h"
#include "intel/feed_fetch.h"
#include "intel/json_support.h"

namespace orbwatch::intel {

namespace {

namespace fs = std::filesystem;
namespace ij = intel::json;  // json_support.h (reading); orbwatch::json writes

// The status file's fields, one table for writing and reading.
using Member = std::variant<std::string FeedStatus::*, int64_t FeedStatus::*,
                            uint64_t FeedStatus::*, uint32_t FeedStatus::*>;
struct Field {
  const char* key;
  Member member;
};
const std::array<Field, 15> kFields = {{
    {"name", &FeedStatus::name},
    {"source", &FeedStatus::source},
    {"config_format", &FeedStatus::config_format},
    {"format", &FeedStatus::format},
    {"entries", &FeedStatus::entries},
    {"bytes", &FeedStatus::bytes},
    {"etag", &FeedStatus::etag},
    {"last_modified", &FeedStatus::last_modified},
    {"taxii_added_after", &FeedStatus::taxii_added_after},
    {"fetched_ms", &FeedStatus::fetched_ms},
    {"last_attempt_ms", &FeedStatus::last_attempt_ms},
    {"last_success_ms", &FeedStatus::last_success_ms},
    {"last_error", &FeedStatus::last_error},
    {"consecutive_failures", &FeedStatus::consecutive_failures},
    {"rejected_updates", &FeedStatus::rejected_updates},
}};

std::string encode(const FeedStatus& status) {
  std::string out = "{";
  for (const Field& f : kFields) {
    if (out.size() > 1) out += ',';
    orbwatch::json::append_string(out, f.key);
    out += ':';
    std::visit(
        [&](auto m) {
          using T = std::remove_cvref_t<decltype(status.*m)>;
          if constexpr (std::is_same_v<T, std::string>) {
            orbwatch::json::append_string(out, status.*m);
          } else {
            orbwatch::json::append_int(out, status.*m);
          }
        },
        f.member);
  }
  return out + "}\n";
}

bool decode(std::string_view text, FeedStatus& status) {
  ij::DomReader reader;
  simdjson::dom::element root;
  simdjson::dom::object obj;
  if (reader.parse(text, root) != simdjson::SUCCESS || root.get_object().get(obj)) return false;
  for (const Field& f : kFields) {
    bool ok = true;
    std::visit(
        [&](auto m) {
          using T = std::remove_cvref_t<decltype(status.*m)>;
          std::string why;
          if constexpr (std::is_same_v<T, std::string>) {
            std::string_view s;
            if (ij::get_string(obj, f.key, s, why) == ij::Field::kOk) {
              status.*m = std::string(s);
            }
          } else {
            int64_t v = 0;
            auto r = ij::get_int(obj, f.key, v, why);
            if (r == ij::Field::kOk && (std::is_signed_v<T> || v >= 0)) {
              status.*m = static_cast<T>(v);
            }
            ok = r != ij::Field::kWrongType;
          }
        },
        f.member);
    if (!ok) return false;
  }
  return true;
}

// Writes `data` to a temporary file beside `path`, flushes it to disk and renames it over
// `path`: a crash leaves either the old or the new file.
bool write_atomic(const std::string& path, std::string_view data, std::string& error) {
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." +
                          std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = tmp + ": " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const bool ok = done == data.size() && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    error = path + ": " + std::strerror(ok ? errno : saved);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

bool ensure_dir(const std::string& dir, std::string& error) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) error = dir + ": " + ec.message();
  return !ec;
}

}  // namespace

std::string FeedCache::path(std::string_view name, const char* suffix) const {
  return (fs::path(dir_) / (std::string(name) + suffix)).string();
}

bool FeedCache::write_text(std::string_view name, std::string_view text, std::string& error) const {
  if (dir_.empty()) return true;
  return ensure_dir(dir_, error) && write_atomic(path(name, ".feed"), text, error);
}

bool FeedCache::write_status(std::string_view name, const FeedStatus& status,
                             std::string& error) const {
  if (dir_.empty()) return true;
  return ensure_dir(dir_, error) && write_atomic(path(name, ".status.json"), encode(status), error);
}

std::optional<FeedStatus> FeedCache::read_status(const FeedConfig& feed) const {
  if (dir_.empty()) return std::nullopt;
  std::string error;
  auto text = read_file_capped(path(feed.name, ".status.json"), 1u << 20, error);
  FeedStatus status;
  if (!text || !decode(*text, status)) return std::nullopt;
  if (status.source != feed.source || status.config_format != config_format_name(feed)) {
    return std::nullopt;
  }
  status.name = feed.name;
  return status;
}

std::optional<std::string> FeedCache::read_text(std::string_view name, uint64_t max_bytes) const {
  if (dir_.empty()) return std::nullopt;
  std::string error;
  return read_file_capped(path(name, ".feed"), max_bytes, error);
}

}  // namespace orbwatch::intel
