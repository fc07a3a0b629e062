#include "store/archive.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/flow_batch.h"
#include "core/time.h"
#include "store/segment_format.h"
#include "store/segment_reader.h"

namespace orbwatch::store::archive {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSealedExt = ".seg";
constexpr std::string_view kOpenExt = ".seg.tmp";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool parse_i64(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// "FIRST-LAST-NONCE.seg" (FIRST may be negative: "-5-10-abc.seg").
bool parse_sealed_name(std::string_view name, int64_t& first, int64_t& last) {
  if (!ends_with(name, kSealedExt)) return false;
  name.remove_suffix(kSealedExt.size());
  const size_t nonce = name.rfind('-');
  if (nonce == std::string_view::npos || nonce + 1 == name.size()) return false;
  name = name.substr(0, nonce);
  const size_t mid = name.find('-', 1);
  if (mid == std::string_view::npos) return false;
  return parse_i64(name.substr(0, mid), first) && parse_i64(name.substr(mid + 1), last) &&
         first <= last;
}

std::string day_of(int64_t ms) {
  const std::string t = rfc3339_ms(ms);  // "YYYY-MM-DDTHH:MM:SS.mmmZ"
  return t.substr(0, t.find('T'));
}

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

}  // namespace

std::string flows_dir(const std::string& dir) {
  return (fs::path(dir) / "flows").string();
}

std::string open_dir(const std::string& dir) {
  return (fs::path(dir) / "flows" / "open").string();
}

std::string new_nonce() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  const auto [p, ec] = std::to_chars(buf, buf + 16, rng(), 16);
  std::string s(buf, p);
  return std::string(16 - s.size(), '0') + s;
}

std::string sealed_path(const std::string& dir, int64_t first_ms, int64_t last_ms,
                        const std::string& nonce) {
  return (fs::path(flows_dir(dir)) / day_of(first_ms) /
          (std::to_string(first_ms) + "-" + std::to_string(last_ms) + "-" + nonce + ".seg"))
      .string();
}

std::vector<SegmentFile> list(const std::string& dir, std::vector<std::string>& problems) {
  std::vector<SegmentFile> sealed, open;
  std::error_code ec;
  const fs::path root = flows_dir(dir);
  if (!fs::exists(root, ec)) return {};
  for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) continue;
    const std::string path = it->path().string();
    const std::string name = it->path().filename().string();
    const bool in_open = it->path().parent_path().filename() == "open";
    SegmentFile f;
    f.path = path;
    f.bytes = it->file_size(ec);
    if (ec) {
      problems.push_back(path + ": " + ec.message());
      ec.clear();
      continue;
    }
    if (in_open && ends_with(name, kOpenExt)) {
      open.push_back(std::move(f));
    } else if (!in_open && parse_sealed_name(name, f.first_ms, f.last_ms)) {
      f.sealed = true;
      sealed.push_back(std::move(f));
    } else {
      problems.push_back(path + ": not a segment file name; skipped");
    }
  }
  if (ec) problems.push_back(root.string() + ": " + ec.message());
  std::sort(sealed.begin(), sealed.end(), [](const SegmentFile& a, const SegmentFile& b) {
    return a.first_ms != b.first_ms ? a.first_ms < b.first_ms : a.path < b.path;
  });
  std::sort(open.begin(), open.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.path < b.path; });
  sealed.insert(sealed.end(), std::make_move_iterator(open.begin()),
                std::make_move_iterator(open.end()));
  return sealed;
}

int64_t newest_ms(const std::string& dir) {
  std::vector<std::string> ignored;
  int64_t newest = std::numeric_limits<int64_t>::min();
  for (const auto& f : list(dir, ignored)) {
    if (f.sealed) {
      newest = std::max(newest, f.last_ms);
      continue;
    }
    std::string error;
    if (auto r = SegmentReader::open(f.path, error)) {
      for (const auto& b : r->blocks()) newest = std::max(newest, b.header.max_end_ms);
    }
  }
  return newest == std::numeric_limits<int64_t>::min() ? wall_clock_ms() : newest;
}

namespace {

enum class Sealed { kFailed, kSealed, kRemoved };

// Seals `tmp_path`, whose lock the caller holds through `fd`.
Sealed seal_locked(const std::string& dir, const std::string& tmp_path, int fd,
                   std::string& error) {
  auto reader = SegmentReader::open(tmp_path, error);
  // No file header (a writer that died at once) or no whole block: nothing to keep.
  if (!reader || reader->blocks().empty()) {
    if (::unlink(tmp_path.c_str()) != 0) {
      error = errno_text(tmp_path + ": unlink");
      return Sealed::kFailed;
    }
    return Sealed::kRemoved;
  }
  const auto& blocks = reader->blocks();
  int64_t first = blocks[0].header.min_start_ms, last = blocks[0].header.max_end_ms;
  for (const auto& b : blocks) {
    first = std::min(first, b.header.min_start_ms);
    last = std::max(last, b.header.max_end_ms);
  }
  if (!reader->has_footer()) {
    std::vector<uint8_t> entries;
    for (const auto& b : blocks) segment::append_footer_entry(entries, b.offset, b.header);
    const uint64_t at = reader->blocks_end();
    const auto footer = segment::encode_footer(entries, static_cast<uint32_t>(blocks.size()),
                                               reader->records(), at);
    if (::ftruncate(fd, static_cast<off_t>(at)) != 0 ||
        ::pwrite(fd, footer.data(), footer.size(), static_cast<off_t>(at)) !=
            static_cast<ssize_t>(footer.size()) ||
        ::fsync(fd) != 0) {
      error = errno_text(tmp_path + ": writing the footer");
      return Sealed::kFailed;
    }
  }
  const std::string name = fs::path(tmp_path).filename().string();
  const std::string nonce = name.substr(0, name.size() - kOpenExt.size());
  const std::string to = sealed_path(dir, first, last, nonce);
  std::error_code ec;
  fs::create_directories(fs::path(to).parent_path(), ec);
  if (ec) {
    error = fs::path(to).parent_path().string() + ": " + ec.message();
    return Sealed::kFailed;
  }
  if (::rename(tmp_path.c_str(), to.c_str()) != 0 || !segment::sync_parent_dir(to)) {
    error = errno_text(tmp_path + ": rename to " + to);
    return Sealed::kFailed;
  }
  return Sealed::kSealed;
}

}  // namespace

bool seal(const std::string& dir, const std::string& tmp_path, std::string& error) {
  const int fd = ::open(tmp_path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    error = errno_text(tmp_path);
    return false;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    error = tmp_path + ": a writer holds it";
    ::close(fd);
    return false;
  }
  const bool ok = seal_locked(dir, tmp_path, fd, error) != Sealed::kFailed;
  ::close(fd);
  return ok;
}

RecoverResult recover(const std::string& dir, int64_t quiet_ms) {
  RecoverResult r;
  std::error_code ec;
  const fs::path open = open_dir(dir);
  if (!fs::exists(open, ec)) return r;
  const int64_t now = wall_clock_ms();
  for (const auto& e : fs::directory_iterator(open, ec)) {
    const std::string path = e.path().string();
    if (!ends_with(path, kOpenExt)) continue;
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) continue;  // sealed or removed meanwhile
    struct stat st {};
    const bool quiet =
        ::fstat(fd, &st) == 0 &&
        now - (int64_t{st.st_mtim.tv_sec} * 1000 + st.st_mtim.tv_nsec / 1'000'000) >= quiet_ms;
    if (quiet && ::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      std::string error;
      switch (seal_locked(dir, path, fd, error)) {
        case Sealed::kFailed:
          r.problems.push_back(error);
          break;
        case Sealed::kSealed:
          ++r.sealed;
          break;
        case Sealed::kRemoved:
          ++r.removed;
          break;
      }
    }
    ::close(fd);
  }
  if (ec) r.problems.push_back(open.string() + ": " + ec.message());
  return r;
}

RetentionResult apply_retention(const std::string& dir, const Retention& retention,
                                int64_t now_ms) {
  RetentionResult r;
  if (retention.max_age_ms <= 0 && retention.max_bytes == 0) return r;
  std::vector<std::string> ignored;
  auto files = list(dir, ignored);
  uint64_t total = 0;
  for (const auto& f : files) total += f.bytes;
  std::vector<const SegmentFile*> sealed;
  for (const auto& f : files) {
    if (f.sealed) sealed.push_back(&f);
  }
  std::sort(sealed.begin(), sealed.end(),
            [](const SegmentFile* a, const SegmentFile* b) { return a->last_ms < b->last_ms; });
  for (const SegmentFile* f : sealed) {
    const bool too_old = retention.max_age_ms > 0 && f->last_ms < now_ms - retention.max_age_ms;
    const bool too_big = retention.max_bytes > 0 && total > retention.max_bytes;
    if (!too_old && !too_big) break;  // oldest first: the rest is younger
    if (::unlink(f->path.c_str()) != 0) {
      r.problems.push_back(errno_text(f->path + ": unlink"));
      continue;
    }
    ++r.files;
    r.bytes += f->bytes;
    total -= f->bytes;
    std::error_code ec;
    const fs::path day = fs::path(f->path).parent_path();
    if (fs::is_empty(day, ec)) fs::remove(day, ec);
  }
  return r;
}

namespace {

// Copies the intact blocks of `r` (by index) into `path`.repair with a new footer and renames it
// over `path`.
bool rewrite(const SegmentReader& r, const std::vector<size_t>& good, const std::string& path,
             std::string& error) {
  const std::string tmp = path + ".repair";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = errno_text(tmp);
    return false;
  }
  const int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  bool ok = in >= 0;
  std::vector<uint8_t> buf(segment::kFileHeaderSize);
  ok = ok && segment::pread_all(in, buf.data(), buf.size(), 0) &&
       ::write(fd, buf.data(), buf.size()) == static_cast<ssize_t>(buf.size());
  uint64_t at = segment::kFileHeaderSize, records = 0;
  std::vector<uint8_t> entries;
  for (size_t i : good) {
    if (!ok) break;
    const auto& b = r.blocks()[i];
    buf.resize(b.header.total_bytes());
    ok = segment::pread_all(in, buf.data(), buf.size(), b.offset) &&
         ::write(fd, buf.data(), buf.size()) == static_cast<ssize_t>(buf.size());
    segment::append_footer_entry(entries, at, b.header);
    at += buf.size();
    records += b.header.records;
  }
  if (ok) {
    const auto footer =
        segment::encode_footer(entries, static_cast<uint32_t>(good.size()), records, at);
    ok = ::write(fd, footer.data(), footer.size()) == static_cast<ssize_t>(footer.size()) &&
         ::fsync(fd) == 0;
  }
  if (!ok) error = errno_text(tmp + ": rewriting");
  if (in >= 0) ::close(in);
  ::close(fd);
  if (ok && (::rename(tmp.c_str(), path.c_str()) != 0 || !segment::sync_parent_dir(path))) {
    error = errno_text(path + ": rename");
    ok = false;
  }
  if (!ok) ::unlink(tmp.c_str());
  return ok;
}

}  // namespace

CheckResult check(const std::string& dir, bool repair) {
  CheckResult c;
  if (repair) {
    auto r = recover(dir, 1000);
    c.sealed = r.sealed;
    for (auto& p : r.problems) c.problems.push_back(std::move(p));
  }
  for (const auto& f : list(dir, c.problems)) {
    ++c.files;
    std::string error;
    auto r = SegmentReader::open(f.path, error);
    if (!r) {
      ++c.damaged_files;
      c.problems.push_back(error);
      if (repair && f.sealed) {
        const fs::path q = fs::path(dir) / "quarantine";
        std::error_code ec;
        fs::create_directories(q, ec);
        fs::rename(f.path, q / fs::path(f.path).filename(), ec);
        if (ec) {
          c.problems.push_back(f.path + ": moving to quarantine: " + ec.message());
        } else {
          ++c.quarantined;
        }
      }
      continue;
    }
    if (!f.sealed) ++c.open_files;
    c.blocks += r->blocks().size();
    FlowBatch batch;
    BlockScratch scratch;
    std::vector<size_t> good;
    for (size_t i = 0; i < r->blocks().size(); ++i) {
      batch.clear();
      if (r->read_block(i, batch, scratch, error)) {
        good.push_back(i);
        c.records += batch.size();
      } else {
        ++c.damaged_blocks;
        c.problems.push_back(error);
      }
    }
    for (const auto& p : r->problems()) c.problems.push_back(p);
    c.damaged_blocks += r->damaged_blocks();
    // A sealed file must have its footer; an open one is read by scanning.
    const bool footer_lost = f.sealed && !r->has_footer();
    if (footer_lost && r->problems().empty()) {
      c.problems.push_back(f.path + ": footer missing (file cut short?)");
    }
    const bool damaged = good.size() != r->blocks().size() || !r->problems().empty() || footer_lost;
    if (!damaged) continue;
    ++c.damaged_files;
    if (repair && f.sealed) {
      if (rewrite(*r, good, f.path, error)) {
        ++c.repaired;
      } else {
        c.problems.push_back(error);
      }
    }
  }
  return c;
}

}  // namespace orbwatch::store::archive
