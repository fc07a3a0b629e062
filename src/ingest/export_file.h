// Files that hold flow export messages back to back, without packet framing: IPFIX files
// (RFC 5655: a sequence of IPFIX messages) and NetFlow v5 streams (e.g. `nc -u -l > file`).
// NetFlow v9 and sFlow carry no message length, so they cannot be framed this way.
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "ingest/datagram.h"

namespace orbwatch::ingest {

class ExportFileReader {
 public:
  // What the first bytes of a file say it holds (kIpfix, kNetflow5 or kNone).
  static ExportKind detect(std::span<const uint8_t> head);

  ExportFileReader() = default;
  ~ExportFileReader();
  ExportFileReader(const ExportFileReader&) = delete;
  ExportFileReader& operator=(const ExportFileReader&) = delete;

  bool open(const std::string& path, std::string& error);
  // The next message; false at the end of the file or on a framing error (error() says where).
  bool next(std::span<const uint8_t>& msg);
  const std::string& error() const { return error_; }
  uint64_t offset() const { return offset_; }
  ExportKind kind() const { return kind_; }

 private:
  bool fail(const std::string& what);

  FILE* file_ = nullptr;
  std::string path_;
  ExportKind kind_ = ExportKind::kNone;
  std::vector<uint8_t> buf_;
  uint64_t offset_ = 0;
  std::string error_;
};

}  // namespace orbwatch::ingest
