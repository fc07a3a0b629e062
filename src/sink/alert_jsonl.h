// Alerts as JSON lines (docs/formats.md) into a LineOutput: a file, stdout, or nothing.
#pragma once

#include <string>

#include "core/alert.h"
#include "sink/line_output.h"

namespace orbwatch::sink {

class AlertJsonLines final : public AlertSink {
 public:
  explicit AlertJsonLines(LineOutput& out) : out_(out) {}
  // Each alert is written at once: alerts are few, and one that was raised must not wait in a
  // buffer for a crash to lose it.
  void emit(const Alert& alert) override {
    if (!out_.enabled()) return;
    append_alert_json(buf_, alert);
    out_.write(buf_);
  }

 private:
  LineOutput& out_;
  std::string buf_;
};

}  // namespace orbwatch::sink
