// WebhookOutput: each alert as an HTTP POST of its JSON object (application/json) to a URL,
// with a bearer token when configured. An outage loses nothing: alerts that cannot be posted
// go to a bounded spool on disk (files of JSON lines in `spool_dir`, kept across restarts) and
// are replayed in order once the receiver answers again, with exponential back-off between
// tries. Answers 2xx are success; 400, 413 and 422 mean the receiver will never take that alert
// (dropped, counted); anything else, or no answer, is retried. Past `max_spool_bytes` the
// oldest spool file is dropped and its alerts counted.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/alert.h"
#include "sink/alert_outputs.h"

namespace orbwatch::sink {

class WebhookOutput final : public AlertSink {
 public:
  struct Options {
    std::string url;  // http://HOST[:PORT]/PATH or https://...
    std::string bearer_token;
    std::string spool_dir;  // required: where undelivered alerts wait
    uint64_t max_spool_bytes = 64ull << 20;
    uint64_t spool_file_bytes = 1ull << 20;  // a new spool file after this many bytes
    int64_t timeout_ms = 5000;
    int64_t backoff_ms = 1000;  // first wait after a failure; doubles up to max_backoff_ms
    int64_t max_backoff_ms = 60'000;
    std::function<int64_t()> now_ms;
    bool ecs = false;  // Elastic Common Schema field names
  };
  explicit WebhookOutput(Options o);
  void emit(const Alert& alert) override;
  // Replays the spool when the back-off allows (call now and then; emit does too).
  void flush();
  const OutputStats& stats() const { return stats_; }
  uint64_t spooled_bytes() const;
  bool valid() const { return valid_; }

 private:
  enum class Post : uint8_t { kOk, kRejected, kRetry };
  Post post(const std::string& json);
  void spool(const std::string& line);
  void failed(const std::string& why);

  Options o_;
  bool valid_ = false;
  std::string origin_, target_;
  int64_t retry_at_ms_ = 0;
  int64_t backoff_ms_ = 0;
  OutputStats stats_;
};

}  // namespace orbwatch::sink
