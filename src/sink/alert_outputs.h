// Alert outputs for SIEMs and log pipelines (docs/formats.md, "Alert outputs"):
//  - RotatingJsonl: alert JSON lines in a file rotated by size and by age (FILE -> FILE.1 ->
//    ... -> FILE.N, the oldest dropped), each alert written at once;
//  - SyslogOutput: RFC 5424 messages over UDP (one datagram each, RFC 5426) or TCP (octet
//    counting, RFC 6587), the alert JSON as the message, orbwatch's severities mapped to syslog
//    ones; over TCP, alerts wait in a bounded queue while the receiver is away and the oldest
//    are dropped and counted when it is full;
//  - MinSeverity: passes on only alerts of at least a severity (each output has its own).
// Failures never stop the caller: they are counted and the last one kept as text.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "core/alert.h"

namespace orbwatch::sink {

struct OutputStats {
  uint64_t written = 0;  // alerts handed to the file or the receiver
  uint64_t dropped = 0;  // alerts lost (queue full, unrecoverable error)
  uint64_t errors = 0;
  uint64_t rotations = 0;
  std::string last_error;
};

class RotatingJsonl final : public AlertSink {
 public:
  struct Options {
    std::string path;
    uint64_t max_bytes = 100ull << 20;
    int64_t max_age_ms = 86'400'000;  // wall clock, from the file's creation
    uint32_t keep = 10;               // rotated files kept
    std::function<int64_t()> now_ms;  // wall clock; tests set their own
    bool ecs = false;                 // Elastic Common Schema field names
  };
  explicit RotatingJsonl(Options o);
  ~RotatingJsonl() override;
  void emit(const Alert& alert) override;
  const OutputStats& stats() const { return stats_; }

 private:
  bool open();
  void rotate();
  Options o_;
  int fd_ = -1;
  uint64_t size_ = 0;
  int64_t opened_ms_ = 0;
  std::string buf_;
  OutputStats stats_;
};

// Syslog severity (RFC 5424 6.2.1) of an orbwatch severity: critical 2, high 3, medium 4, low 5.
int syslog_severity(Severity s);
// Facility number of "kern".."local7" (RFC 5424 table 1), -1 when unknown.
int syslog_facility(const std::string& name);
// One RFC 5424 message (without framing) for `alert`.
std::string syslog_message(const Alert& alert, int facility, const std::string& hostname,
                           bool ecs = false);
// The alert as one JSON line, orbwatch's fields or ECS ones.
void append_alert_line(std::string& out, const Alert& alert, bool ecs);

class SyslogOutput final : public AlertSink {
 public:
  struct Options {
    std::string url;             // udp://HOST:PORT or tcp://HOST:PORT
    int facility = 16;           // local0
    std::string hostname;        // default: this machine's
    size_t max_queued = 10'000;  // TCP: alerts held while the receiver is away
    int64_t retry_ms = 1000;
    std::function<int64_t()> now_ms;
    bool ecs = false;  // the message with Elastic Common Schema field names
  };
  // False with `error` when the URL does not parse.
  static bool parse_url(const std::string& url, bool& tcp, std::string& host, uint16_t& port,
                        std::string& error);
  explicit SyslogOutput(Options o);
  ~SyslogOutput() override;
  void emit(const Alert& alert) override;
  // TCP: tries to send what waits (call now and then; emit does too).
  void flush();
  const OutputStats& stats() const { return stats_; }
  bool valid() const { return valid_; }

 private:
  bool connect_now();
  void fail(const std::string& what);
  Options o_;
  bool tcp_ = false;
  bool valid_ = false;
  std::string host_;
  uint16_t port_ = 0;
  int fd_ = -1;
  int64_t retry_at_ms_ = 0;
  std::deque<std::string> queue_;  // framed TCP messages not yet sent
  OutputStats stats_;
};

class MinSeverity final : public AlertSink {
 public:
  MinSeverity(AlertSink& next, Severity min) : next_(next), min_(min) {}
  void emit(const Alert& a) override {
    if (a.severity >= min_) next_.emit(a);
  }

 private:
  AlertSink& next_;
  Severity min_;
};

}  // namespace orbwatch::sink
