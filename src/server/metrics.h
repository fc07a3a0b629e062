// /metrics: the pipeline's counters in the Prometheus text exposition format (version 0.0.4).
// Every metric and label is listed in docs/api.md.
#pragma once

#include <string>
#include <vector>

#include "intel/feed_cache.h"
#include "server/pipeline.h"

namespace orbwatch::server {

struct MetricsInput {
  const PipelineStats& pipeline;
  const std::vector<intel::FeedStatus>& feeds;
  uint64_t archive_bytes = 0;  // on disk now
  int64_t now_ms = 0;
};

std::string prometheus_text(const MetricsInput& in);

}  // namespace orbwatch::server
