// LineOutput: a file (or stdout) that receives runs of whole JSON lines from one or more
// threads. Writing to /dev/null is detected so callers can skip formatting entirely.
#pragma once

#include <mutex>
#include <string>

namespace orbwatch::sink {

class LineOutput {
 public:
  LineOutput() = default;
  ~LineOutput() { close(); }
  LineOutput(const LineOutput&) = delete;
  LineOutput& operator=(const LineOutput&) = delete;

  // "" = disabled, "-" = stdout, else a file (created or truncated). False with `error` set.
  bool open(const std::string& path, std::string& error);
  // False when nothing will be written (no path, or /dev/null): skip formatting.
  bool enabled() const { return fd_ >= 0; }
  bool is_stdout() const { return is_stdout_; }
  // Writes and clears `buf`, which must end at a line boundary. Thread-safe.
  void write(std::string& buf);
  void close();
  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }

 private:
  int fd_ = -1;
  bool owned_ = false;
  bool is_stdout_ = false;
  std::mutex mu_;
  bool failed_ = false;
  std::string error_;
};

}  // namespace orbwatch::sink
