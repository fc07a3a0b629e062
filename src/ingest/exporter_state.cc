#include "ingest/exporter_state.h"

#include <algorithm>

namespace orbwatch::ingest {

ExporterState::~ExporterState() {
  *pending_total_ -= pending_bytes_;
}

const Template* ExporterState::find_template(ExportKind kind, uint32_t domain, uint16_t id) {
  auto it = templates_.find(key(kind, domain, id));
  if (it == templates_.end()) return nullptr;
  it->second.last_used = clock;
  return &it->second;
}

void ExporterState::put_template(ExportKind kind, uint32_t domain, Template t, DecodeStats& stats) {
  t.last_used = clock;
  uint64_t k = key(kind, domain, t.id);
  auto it = templates_.find(k);
  if (it != templates_.end()) {
    it->second = std::move(t);
    return;
  }
  if (templates_.size() >= limits_->max_templates_per_exporter) {
    auto victim = std::min_element(templates_.begin(), templates_.end(), [](auto& a, auto& b) {
      return a.second.last_used < b.second.last_used;
    });
    stats.fail(DecodeError::kTemplateEvicted, addr_, 0, victim->second.id);
    templates_.erase(victim);
  }
  templates_.emplace(k, std::move(t));
}

bool ExporterState::withdraw_template(ExportKind kind, uint32_t domain, uint16_t id) {
  return templates_.erase(key(kind, domain, id)) != 0;
}

size_t ExporterState::withdraw_all(ExportKind kind, uint32_t domain, bool options) {
  size_t n = 0;
  for (auto it = templates_.begin(); it != templates_.end();) {
    uint64_t k = it->first;
    bool match = (k >> 48) == static_cast<uint8_t>(kind) &&
                 static_cast<uint32_t>(k >> 16) == domain && it->second.options == options;
    if (match) {
      it = templates_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

DomainState* ExporterState::domain(ExportKind kind, uint32_t id) {
  uint64_t k = (uint64_t{static_cast<uint8_t>(kind)} << 32) | id;
  auto it = domains_.find(k);
  if (it != domains_.end()) return &it->second;
  if (domains_.size() >= limits_->max_domains_per_exporter) return nullptr;
  return &domains_[k];
}

void ExporterState::set_sampler_rate(uint32_t domain, uint64_t sampler_id, uint32_t rate) {
  uint64_t k = (uint64_t{domain} << 32) ^ sampler_id;
  if (samplers_.size() >= limits_->max_samplers_per_exporter && !samplers_.contains(k)) {
    samplers_.erase(samplers_.begin());  // any victim: samplers are re-announced periodically
  }
  samplers_[k] = rate;
}

uint32_t ExporterState::sampler_rate(uint32_t domain, uint64_t sampler_id) const {
  auto it = samplers_.find((uint64_t{domain} << 32) ^ sampler_id);
  return it == samplers_.end() ? 0 : it->second;
}

void ExporterState::drop_pending_front(DecodeStats& stats) {
  const PendingSet& p = pending_.front();
  pending_bytes_ -= p.bytes.size();
  *pending_total_ -= p.bytes.size();
  stats.fail(DecodeError::kPendingDropped, addr_, 0, p.template_id);
  pending_.erase(pending_.begin());
}

bool ExporterState::hold(PendingSet p, DecodeStats& stats) {
  size_t n = p.bytes.size();
  if (n > limits_->max_pending_bytes_per_exporter || n > limits_->max_pending_bytes_total) {
    stats.fail(DecodeError::kPendingDropped, addr_, 0, p.template_id);
    return false;
  }
  while (!pending_.empty() && (pending_.size() >= limits_->max_pending_sets_per_exporter ||
                               pending_bytes_ + n > limits_->max_pending_bytes_per_exporter ||
                               *pending_total_ + n > limits_->max_pending_bytes_total)) {
    drop_pending_front(stats);
  }
  if (*pending_total_ + n > limits_->max_pending_bytes_total) {
    // Other exporters hold the global budget; this one cannot take from them.
    stats.fail(DecodeError::kPendingDropped, addr_, 0, p.template_id);
    return false;
  }
  pending_bytes_ += n;
  *pending_total_ += n;
  pending_.push_back(std::move(p));
  return true;
}

std::vector<PendingSet> ExporterState::take_pending(ExportKind kind, uint32_t domain, uint16_t id,
                                                    int64_t now_ms, DecodeStats& stats) {
  std::vector<PendingSet> out;
  if (pending_.empty()) return out;
  std::vector<PendingSet> keep;
  for (auto& p : pending_) {
    bool expired = now_ms - p.recv_ms > limits_->pending_ttl_ms;
    bool match = p.kind == kind && p.domain == domain && p.template_id == id;
    if (expired || match) {
      pending_bytes_ -= p.bytes.size();
      *pending_total_ -= p.bytes.size();
      if (expired) {
        stats.fail(DecodeError::kPendingDropped, addr_, 0, p.template_id);
      } else {
        out.push_back(std::move(p));
      }
    } else {
      keep.push_back(std::move(p));
    }
  }
  pending_ = std::move(keep);
  return out;
}

ExporterState& ExporterTable::get(const IpAddr& addr, DecodeStats& stats) {
  if (last_ != nullptr && last_->addr() == addr) return *last_;
  auto it = map_.find(addr);
  if (it != map_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    last_ = lru_.front().get();
    return *last_;
  }
  if (map_.size() >= limits_.max_exporters && !lru_.empty()) {
    stats.fail(DecodeError::kExporterEvicted, lru_.back()->addr(), 0);
    map_.erase(lru_.back()->addr());
    lru_.pop_back();
  }
  lru_.push_front(std::make_unique<ExporterState>(addr, limits_, &pending_total_));
  map_.emplace(addr, lru_.begin());
  last_ = lru_.front().get();
  return *last_;
}

}  // namespace orbwatch::ingest
