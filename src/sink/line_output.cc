#include "sink/line_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace orbwatch::sink {

bool LineOutput::open(const std::string& path, std::string& error) {
  close();
  if (path.empty()) return true;
  if (path == "-") {
    fd_ = STDOUT_FILENO;
    is_stdout_ = true;
  } else {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      error = "cannot open " + path + ": " + std::strerror(errno);
      return false;
    }
    owned_ = true;
  }
  struct stat st {};
  struct stat null_st {};
  if (fstat(fd_, &st) == 0 && S_ISCHR(st.st_mode) && ::stat("/dev/null", &null_st) == 0 &&
      st.st_rdev == null_st.st_rdev) {
    close();
  }
  return true;
}

void LineOutput::write(std::string& buf) {
  if (buf.empty()) return;
  std::lock_guard lock(mu_);
  const char* p = buf.data();
  size_t n = buf.size();
  while (n > 0 && !failed_ && fd_ >= 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      error_ = std::strerror(errno);
      failed_ = true;
      break;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  buf.clear();
}

void LineOutput::close() {
  if (owned_) ::close(fd_);
  owned_ = false;
  is_stdout_ = false;
  fd_ = -1;
}

}  // namespace orbwatch::sink
