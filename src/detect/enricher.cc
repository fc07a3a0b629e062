#include "detect/enricher.h"

#include "detect/flow_role.h"

namespace orbwatch::detect {

namespace {
const enrich::Geo kNoGeo{};
}  // namespace

Enricher::Enricher(std::shared_ptr<const netmodel::ModelIndex> model,
                   std::shared_ptr<const enrich::GeoDb> geo)
    : model_(std::move(model)), geo_(std::move(geo)) {}

void Enricher::enrich(const FlowBatch& batch, const intel::IntelSet& intel) {
  batch_ = &batch;
  intel_ = &intel;
  const size_t n = batch.size();
  addrs_.resize(2 * n);
  for (size_t i = 0; i < n; ++i) {
    addrs_[i] = batch.records[i].src;
    addrs_[n + i] = batch.records[i].dst;
  }
  intel_sets_.resize(2 * n);
  model_sets_.resize(2 * n);
  intel.prefixes().lookup_batch(addrs_.data(), 2 * n, intel_sets_.data());
  model_->lookup_batch(addrs_.data(), 2 * n, model_sets_.data());
  if (geo_) {
    geo_info_.resize(2 * n);
    geo_->lookup_batch(addrs_.data(), 2 * n, geo_info_.data());
  }
  // batch.dns is sorted by record: one pass finds where each record's answers start.
  dns_begin_.assign(n + 1, 0);
  size_t d = 0;
  for (size_t i = 0; i <= n; ++i) {
    while (d < batch.dns.size() && batch.dns[d].record < i) ++d;
    dns_begin_[i] = static_cast<uint32_t>(d);
  }
}

EnrichedFlow Enricher::flow(uint32_t i) const {
  const FlowRecord& r = batch_->records[i];
  const size_t n = batch_->size();
  const auto& prefixes = intel_->prefixes();
  std::string_view name = batch_->name(r.name_ref);
  const netmodel::Place& src = model_->place_of(model_sets_[i]);
  const netmodel::Place& dst = model_->place_of(model_sets_[n + i]);
  EnrichedFlow f{
      .rec = r,
      .batch = *batch_,
      .index = i,
      .intel = *intel_,
      .src_intel = prefixes.set(intel_sets_[i]),
      .dst_intel = prefixes.set(intel_sets_[n + i]),
      .name_intel = name.empty() ? std::span<const uint32_t>{} : intel_->domains().lookup(name),
      .server_name = name,
      .dns = std::span<const DnsAnswer>(batch_->dns.data() + dns_begin_[i],
                                        batch_->dns.data() + dns_begin_[i + 1]),
      .initiator = guess_initiator(r),
      .model = *model_,
      .src_place = src,
      .dst_place = dst,
      .src_internal = src.internal,
      .dst_internal = dst.internal,
      .src_geo = geo_ ? geo_info_[i] : kNoGeo,
      .dst_geo = geo_ ? geo_info_[n + i] : kNoGeo,
      .geo = geo_.get(),
      .edge = {},
      .inventory = nullptr,
  };
  return f;
}

}  // namespace orbwatch::detect
