#include "sink/alert_outputs.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fmt/core.h>

#include "core/time.h"

namespace orbwatch::sink {
namespace {

// PRINTUSASCII without spaces, at most `max` characters (RFC 5424 header fields); "-" if empty.
std::string header_field(std::string_view s, size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() == max) break;
    if (c > 32 && c < 127) out += c;
  }
  return out.empty() ? "-" : out;
}

}  // namespace

void append_alert_line(std::string& out, const Alert& alert, bool ecs) {
  if (ecs) {
    append_alert_ecs_json(out, alert);
  } else {
    append_alert_json(out, alert);
  }
}

// --- RotatingJsonl ------------------------------------------------------------------------

RotatingJsonl::RotatingJsonl(Options o) : o_(std::move(o)) {
  if (!o_.now_ms) o_.now_ms = wall_clock_ms;
  o_.keep = std::max<uint32_t>(1, o_.keep);
}

RotatingJsonl::~RotatingJsonl() {
  if (fd_ >= 0) ::close(fd_);
}

bool RotatingJsonl::open() {
  fd_ = ::open(o_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    ++stats_.errors;
    stats_.last_error = o_.path + ": " + std::strerror(errno);
    return false;
  }
  const off_t end = ::lseek(fd_, 0, SEEK_END);
  size_ = end > 0 ? static_cast<uint64_t>(end) : 0;
  // An existing file's age is unknown here: it is judged from now.
  opened_ms_ = o_.now_ms();
  return true;
}

void RotatingJsonl::rotate() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  std::filesystem::remove(o_.path + "." + std::to_string(o_.keep), ec);
  for (uint32_t i = o_.keep; i > 1; --i) {
    const std::string from = o_.path + "." + std::to_string(i - 1);
    if (std::filesystem::exists(from, ec))
      std::filesystem::rename(from, o_.path + "." + std::to_string(i), ec);
  }
  std::filesystem::rename(o_.path, o_.path + ".1", ec);
  if (ec) {
    ++stats_.errors;
    stats_.last_error = o_.path + ": rotate: " + ec.message();
  }
  ++stats_.rotations;
}

void RotatingJsonl::emit(const Alert& alert) {
  buf_.clear();
  append_alert_line(buf_, alert, o_.ecs);
  if (fd_ < 0 && !open()) {
    ++stats_.dropped;
    return;
  }
  if (size_ > 0 &&
      (size_ + buf_.size() > o_.max_bytes || o_.now_ms() - opened_ms_ >= o_.max_age_ms)) {
    rotate();
    if (!open()) {
      ++stats_.dropped;
      return;
    }
  }
  // One write of a whole line (O_APPEND): a reader never sees half an alert.
  const ssize_t n = ::write(fd_, buf_.data(), buf_.size());
  if (n != static_cast<ssize_t>(buf_.size())) {
    ++stats_.errors;
    ++stats_.dropped;
    stats_.last_error = o_.path + ": " + (n < 0 ? std::strerror(errno) : "short write");
    return;
  }
  size_ += buf_.size();
  ++stats_.written;
}

// --- syslog -------------------------------------------------------------------------------

int syslog_severity(Severity s) {
  switch (s) {
    case Severity::kCritical:
      return 2;
    case Severity::kHigh:
      return 3;
    case Severity::kMedium:
      return 4;
    case Severity::kLow:
      return 5;
  }
  return 5;
}

int syslog_facility(const std::string& name) {
  static const char* const kNames[] = {
      "kern",   "user",   "mail",     "daemon", "auth",   "syslog", "lpr",    "news",
      "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "audit",  "alert",  "clock",
      "local0", "local1", "local2",   "local3", "local4", "local5", "local6", "local7"};
  for (int i = 0; i < 24; ++i)
    if (name == kNames[i]) return i;
  return -1;
}

std::string syslog_message(const Alert& a, int facility, const std::string& hostname, bool ecs) {
  std::string json;
  append_alert_line(json, a, ecs);
  if (!json.empty() && json.back() == '\n') json.pop_back();
  // <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] BOM MSG
  return fmt::format(
      "<{}>1 {} {} orbwatch {} {} [orbwatch@32473 id=\"{}\" severity=\"{}\"] "
      "\xEF\xBB\xBF{}",
      facility * 8 + syslog_severity(a.severity), rfc3339_ms(a.ts_ms), header_field(hostname, 255),
      static_cast<long>(::getpid()), header_field(a.detector, 32), header_field(a.id, 64),
      severity_name(a.severity), json);
}

bool SyslogOutput::parse_url(const std::string& url, bool& tcp, std::string& host, uint16_t& port,
                             std::string& error) {
  const auto scheme = url.find("://");
  const std::string s = scheme == std::string::npos ? "" : url.substr(0, scheme);
  if (s != "udp" && s != "tcp") {
    error = url + ": expected udp://HOST:PORT or tcp://HOST:PORT";
    return false;
  }
  tcp = s == "tcp";
  std::string rest = url.substr(scheme + 3);
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    error = url + ": expected a port";
    return false;
  }
  host = rest.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string p = rest.substr(colon + 1);
  char* end = nullptr;
  const long v = std::strtol(p.c_str(), &end, 10);
  if (p.empty() || *end != '\0' || v <= 0 || v > 65535) {
    error = url + ": expected a port from 1 to 65535";
    return false;
  }
  port = static_cast<uint16_t>(v);
  return true;
}

SyslogOutput::SyslogOutput(Options o) : o_(std::move(o)) {
  if (!o_.now_ms) o_.now_ms = wall_clock_ms;
  if (o_.hostname.empty()) {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) == 0) o_.hostname = name;
  }
  std::string error;
  valid_ = parse_url(o_.url, tcp_, host_, port_, error);
  if (!valid_) stats_.last_error = error;
}

SyslogOutput::~SyslogOutput() {
  flush();
  if (fd_ >= 0) ::close(fd_);
}

void SyslogOutput::fail(const std::string& what) {
  ++stats_.errors;
  stats_.last_error = o_.url + ": " + what;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  retry_at_ms_ = o_.now_ms() + o_.retry_ms;
}

bool SyslogOutput::connect_now() {
  if (fd_ >= 0) return true;
  if (o_.now_ms() < retry_at_ms_) return false;
  addrinfo hints{};
  hints.ai_socktype = tcp_ ? SOCK_STREAM : SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(port_);
  if (::getaddrinfo(host_.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
    fail("cannot resolve " + host_);
    return false;
  }
  fd_ = ::socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
  const bool ok = fd_ >= 0 && ::connect(fd_, res->ai_addr, res->ai_addrlen) == 0;
  const int err = errno;
  ::freeaddrinfo(res);
  if (!ok) {
    fail(std::strerror(err));
    return false;
  }
  return true;
}

void SyslogOutput::flush() {
  if (!tcp_ || queue_.empty() || !connect_now()) return;
  while (!queue_.empty()) {
    const std::string& m = queue_.front();
    const ssize_t n = ::send(fd_, m.data(), m.size(), MSG_NOSIGNAL);
    if (n != static_cast<ssize_t>(m.size())) {
      // A partial send would leave the stream mid-message: start over on a new connection.
      fail(n < 0 ? std::strerror(errno) : "short send");
      return;
    }
    queue_.pop_front();
    ++stats_.written;
  }
}

void SyslogOutput::emit(const Alert& alert) {
  if (!valid_) {
    ++stats_.dropped;
    return;
  }
  const std::string m = syslog_message(alert, o_.facility, o_.hostname, o_.ecs);
  if (!tcp_) {
    if (!connect_now() || ::send(fd_, m.data(), m.size(), 0) != static_cast<ssize_t>(m.size())) {
      if (fd_ >= 0) fail(std::strerror(errno));
      ++stats_.dropped;
      return;
    }
    ++stats_.written;
    return;
  }
  if (queue_.size() >= o_.max_queued) {
    queue_.pop_front();
    ++stats_.dropped;
  }
  queue_.push_back(std::to_string(m.size()) + " " + m);  // octet counting
  flush();
}

}  // namespace orbwatch::sink
