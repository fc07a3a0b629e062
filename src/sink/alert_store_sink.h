// Alerts into the alert store (state.db), then on to the next sink. A store that fails stops
// being written (the first error is kept for the summary), but alerts keep flowing to the next
// sink: a full disk must not silence detection.
#pragma once

#include <string>

#include "core/alert.h"
#include "store/alert_store.h"

namespace orbwatch::sink {

class AlertStoreSink final : public AlertSink {
 public:
  // `store` null: only forwards.
  AlertStoreSink(store::AlertStore* store, AlertSink& next) : store_(store), next_(next) {}
  void emit(const Alert& alert) override {
    next_.emit(alert);
    if (store_ == nullptr) return;
    if (error_.empty() && store_->put(alert, error_)) return;
    ++not_stored_;
  }
  const std::string& error() const { return error_; }
  uint64_t not_stored() const { return not_stored_; }

 private:
  store::AlertStore* store_;
  AlertSink& next_;
  std::string error_;
  uint64_t not_stored_ = 0;
};

}  // namespace orbwatch::sink
