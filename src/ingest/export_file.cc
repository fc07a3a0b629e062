#include "ingest/export_file.h"

#include <cerrno>
#include <cstring>

#include "core/byte_reader.h"

namespace orbwatch::ingest {

ExportKind ExportFileReader::detect(std::span<const uint8_t> head) {
  if (head.size() < 4) return ExportKind::kNone;
  uint16_t version = load_be16(head.data());
  uint16_t second = load_be16(head.data() + 2);
  if (version == 10 && second >= 16) return ExportKind::kIpfix;                   // message length
  if (version == 5 && second >= 1 && second <= 30) return ExportKind::kNetflow5;  // count
  return ExportKind::kNone;
}

ExportFileReader::~ExportFileReader() {
  if (file_ != nullptr) fclose(file_);
}

bool ExportFileReader::open(const std::string& path, std::string& error) {
  path_ = path;
  file_ = fopen(path.c_str(), "rb");
  if (file_ == nullptr) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  uint8_t head[4];
  size_t n = fread(head, 1, sizeof(head), file_);
  kind_ = detect({head, n});
  if (kind_ == ExportKind::kNone) {
    error = path + ": not an IPFIX file or NetFlow v5 stream";
    return false;
  }
  rewind(file_);
  return true;
}

bool ExportFileReader::fail(const std::string& what) {
  error_ = path_ + ": offset " + std::to_string(offset_) + ": " + what;
  return false;
}

bool ExportFileReader::next(std::span<const uint8_t>& msg) {
  if (file_ == nullptr || !error_.empty()) return false;
  uint8_t head[4];
  size_t n = fread(head, 1, sizeof(head), file_);
  if (n == 0) return false;  // clean end
  if (n < sizeof(head)) return fail("file ends inside a message header");
  uint16_t version = load_be16(head);
  uint16_t field = load_be16(head + 2);
  size_t len = 0;
  if (kind_ == ExportKind::kIpfix) {
    if (version != 10) return fail("version " + std::to_string(version) + ", expected 10");
    if (field < 16) return fail("message length " + std::to_string(field) + " < 16");
    len = field;
  } else {
    if (version != 5) return fail("version " + std::to_string(version) + ", expected 5");
    if (field == 0 || field > 30) return fail("record count " + std::to_string(field));
    len = 24 + size_t{field} * 48;
  }
  buf_.resize(len);
  std::memcpy(buf_.data(), head, sizeof(head));
  if (fread(buf_.data() + 4, 1, len - 4, file_) != len - 4) {
    return fail("file ends inside a message of " + std::to_string(len) + " bytes");
  }
  offset_ += len;
  msg = buf_;
  return true;
}

}  // namespace orbwatch::ingest
