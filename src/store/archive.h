// The flow archive: a directory of segment files (layout in docs/formats.md, "Flow archive").
//
//   DIR/flows/open/NONCE.seg.tmp                  being written (its writer holds a flock on it)
//                                                 or left by a crash (no lock: recover() seals it)
//   DIR/flows/YYYY-MM-DD/FIRST-LAST-NONCE.seg     sealed; FIRST = the least start_ms, LAST = the
//                                                 greatest end_ms (Unix ms), day of FIRST (UTC)
//
// The bounds in the name let time-range scans and retention pass over files without opening
// them. Functions here never throw; problems come back as text naming the file.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace orbwatch::store::archive {

struct SegmentFile {
  std::string path;
  int64_t first_ms = std::numeric_limits<int64_t>::min();  // open files: unknown until read
  int64_t last_ms = std::numeric_limits<int64_t>::max();
  uint64_t bytes = 0;
  bool sealed = false;
};

std::string flows_dir(const std::string& dir);
std::string open_dir(const std::string& dir);
// A random 16-hex-digit name part, unique per writer and segment.
std::string new_nonce();
// Where a sealed segment with these bounds lives.
std::string sealed_path(const std::string& dir, int64_t first_ms, int64_t last_ms,
                        const std::string& nonce);

// Every segment of the archive: sealed ones ordered by (first_ms, path), then open ones.
// Anything else under flows/ is reported in `problems` and skipped. A missing archive is empty.
std::vector<SegmentFile> list(const std::string& dir, std::vector<std::string>& problems);

// The end of the newest flow in the archive (the wall clock when it is empty).
int64_t newest_ms(const std::string& dir);

// Seals the open segment `tmp_path` whose writer is gone: drops the partial block a crash left,
// appends the footer and renames it under its day. One without a whole block is removed.
// Refuses (false, `error`) while a writer holds the file.
bool seal(const std::string& dir, const std::string& tmp_path, std::string& error);

struct RecoverResult {
  size_t sealed = 0;
  size_t removed = 0;  // open segments without a whole block
  std::vector<std::string> problems;
};
// Seals every open segment no writer holds and that was not written to in the last
// `quiet_ms` (a writer that is just starting has not locked its file yet).
RecoverResult recover(const std::string& dir, int64_t quiet_ms = 5000);

struct CheckResult {
  size_t files = 0;
  size_t open_files = 0;  // being written, or left by a crash (repair seals those)
  uint64_t blocks = 0;
  uint64_t records = 0;  // in blocks that verified
  uint64_t damaged_blocks = 0;
  size_t damaged_files = 0;  // files with a damaged block, footer or header
  // After repair: files rewritten without their damaged blocks, open ones sealed, unreadable
  // ones moved to DIR/quarantine.
  size_t repaired = 0;
  size_t sealed = 0;
  size_t quarantined = 0;
  std::vector<std::string> problems;  // one line each, naming the file
};
// Verifies every block of every segment (checksums, decoding). With `repair`: seals abandoned
// open segments, rewrites damaged segments with their intact blocks, and moves files without a
// readable segment header to DIR/quarantine.
CheckResult check(const std::string& dir, bool repair);

struct Retention {
  int64_t max_age_ms = 0;  // 0: keep regardless of age
  uint64_t max_bytes = 0;  // 0: no size limit
};
struct RetentionResult {
  size_t files = 0;
  uint64_t bytes = 0;
  std::vector<std::string> problems;
};
// Removes sealed segments whose last flow ended before now - max_age, then the oldest (by last
// flow) until the archive's segments total at most max_bytes; removes emptied day directories.
RetentionResult apply_retention(const std::string& dir, const Retention& retention, int64_t now_ms);

}  // namespace orbwatch::store::archive
