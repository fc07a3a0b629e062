#include "netmodel/model_index.h"

#include <algorithm>

namespace orbwatch::netmodel {

namespace {

// Id tags in the shared prefix table.
constexpr uint32_t kTagShift = 28;
constexpr uint32_t kMask = (1u << kTagShift) - 1;
enum Tag : uint32_t { kInternal = 1, kZone = 2, kAsset = 3, kList = 4 };
constexpr uint32_t tagged(Tag t, size_t i) {
  return t << kTagShift | static_cast<uint32_t>(i);
}

std::vector<Prefix> default_internal() {
  std::vector<Prefix> out;
  for (const char* p : {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                        "169.254.0.0/16", "fc00::/7", "fe80::/10"}) {
    out.push_back(*Prefix::parse(p));
  }
  return out;
}

uint64_t pair_key(int32_t from, int32_t to) {
  return static_cast<uint64_t>(static_cast<uint32_t>(from)) << 32 | static_cast<uint32_t>(to);
}

}  // namespace

std::shared_ptr<const ModelIndex> ModelIndex::with_internal(std::vector<Prefix> internal) {
  Model m;
  m.internal = std::move(internal);
  return build(std::move(m));
}

std::shared_ptr<const ModelIndex> ModelIndex::build(Model model) {
  std::shared_ptr<ModelIndex> idx(new ModelIndex());
  if (model.internal.empty()) model.internal = default_internal();
  idx->model_ = std::move(model);
  const Model& m = idx->model_;

  intel::PrefixTable::Builder b;
  for (const auto& p : m.internal) b.add(p, tagged(kInternal, 0));
  for (size_t z = 0; z < m.zones.size(); ++z) {
    for (const auto& p : m.zones[z].prefixes) b.add(p, tagged(kZone, z));
  }
  for (size_t a = 0; a < m.assets.size(); ++a) {
    for (const auto& p : m.assets[a].addresses) b.add(p, tagged(kAsset, a));
  }
  // Named lists are list ids 0..L-1; each allow rule's own prefixes get one more id.
  uint32_t next_list = 0;
  for (const auto& l : m.lists) {
    for (const auto& p : l.prefixes) b.add(p, tagged(kList, next_list));
    ++next_list;
  }
  auto zone_index = [&](const std::string& name) {
    for (size_t z = 0; z < m.zones.size(); ++z) {
      if (m.zones[z].name == name) return static_cast<int32_t>(z);
    }
    return -1;
  };
  auto list_index = [&](const std::string& name) {
    for (size_t l = 0; l < m.lists.size(); ++l) {
      if (m.lists[l].name == name) return static_cast<uint32_t>(l);
    }
    return UINT32_MAX;
  };
  idx->allow_.resize(m.assets.size());
  for (size_t a = 0; a < m.assets.size(); ++a) {
    for (const auto& rule : m.assets[a].allow) {
      CompiledRule c;
      uint32_t own = UINT32_MAX;
      for (const auto& ref : rule.from) {
        switch (ref.kind) {
          case SourceRef::Kind::kZone:
            c.zones.push_back(zone_index(ref.name));
            break;
          case SourceRef::Kind::kList:
            c.lists.push_back(list_index(ref.name));
            break;
          case SourceRef::Kind::kPrefix:
            if (own == UINT32_MAX) {
              own = next_list++;
              c.lists.push_back(own);
            }
            b.add(ref.prefix, tagged(kList, own));
            break;
        }
      }
      std::sort(c.lists.begin(), c.lists.end());
      idx->allow_[a].push_back(std::move(c));
    }
  }
  idx->table_ = b.build();

  // Decode every set of the table once.
  const auto& t = *idx->table_;
  std::vector<std::pair<uint32_t, uint32_t>> list_ranges(t.set_count());
  idx->places_.resize(t.set_count());
  for (size_t s = 0; s < t.set_count(); ++s) {
    Place& p = idx->places_[s];
    const auto begin = static_cast<uint32_t>(idx->place_lists_.size());
    for (uint32_t id : t.set(static_cast<intel::PrefixTable::SetIndex>(s))) {
      const uint32_t i = id & kMask;
      switch (id >> kTagShift) {
        case kInternal:
          p.internal = true;
          break;
        case kZone:
          if (p.zone < 0) p.zone = static_cast<int32_t>(i);
          break;
        case kAsset:
          if (p.asset < 0) p.asset = static_cast<int32_t>(i);
          break;
        case kList:
          idx->place_lists_.push_back(i);
          break;
        default:
          break;
      }
    }
    std::sort(idx->place_lists_.begin() + begin, idx->place_lists_.end());
    list_ranges[s] = {begin, static_cast<uint32_t>(idx->place_lists_.size())};
  }
  // Spans only once the storage stops growing.
  for (size_t s = 0; s < t.set_count(); ++s) {
    idx->places_[s].lists = {idx->place_lists_.data() + list_ranges[s].first,
                             idx->place_lists_.data() + list_ranges[s].second};
  }

  for (size_t r = 0; r < m.segmentation.size(); ++r) {
    const auto& rule = m.segmentation[r];
    auto seg = [&](const std::string& name) {
      return name == "external" ? idx->external_segment() : zone_index(name);
    };
    idx->rules_[pair_key(seg(rule.from), seg(rule.to))].push_back(static_cast<uint32_t>(r));
  }
  return idx;
}

int32_t ModelIndex::allow_rule(int32_t asset, uint8_t proto, uint16_t port) const {
  if (asset < 0) return -1;
  const Asset& a = model_.assets[static_cast<size_t>(asset)];
  int32_t catch_all = -1;
  for (size_t r = 0; r < a.allow.size(); ++r) {
    const AllowRule& rule = a.allow[r];
    if (rule.services.empty()) {
      catch_all = static_cast<int32_t>(r);
      continue;
    }
    for (const auto& svc : rule.services) {
      if (svc.covers(proto, port)) return static_cast<int32_t>(r);
    }
  }
  if (catch_all < 0 || a.services.empty()) return catch_all;
  for (const auto& svc : a.services) {
    if (svc.covers(proto, port)) return catch_all;
  }
  return -1;
}

bool ModelIndex::allowed(int32_t asset, int32_t rule, const Place& source) const {
  const CompiledRule& c = allow_[static_cast<size_t>(asset)][static_cast<size_t>(rule)];
  if (source.zone >= 0 && std::find(c.zones.begin(), c.zones.end(), source.zone) != c.zones.end()) {
    return true;
  }
  // Both ascending: a merge finds a common list.
  auto x = c.lists.begin();
  auto y = source.lists.begin();
  while (x != c.lists.end() && y != source.lists.end()) {
    if (*x == *y) return true;
    if (*x < *y) {
      ++x;
    } else {
      ++y;
    }
  }
  return false;
}

int32_t ModelIndex::segment_of(const Place& p) const {
  if (p.zone >= 0) return p.zone;
  return p.internal ? -1 : external_segment();
}

ModelIndex::Decision ModelIndex::segment(const Place& from, const Place& to, uint8_t proto,
                                         uint16_t port) const {
  Decision d;
  d.from = segment_of(from);
  d.to = segment_of(to);
  if (d.from < 0 || d.to < 0 || d.from == d.to || rules_.empty()) return d;
  auto it = rules_.find(pair_key(d.from, d.to));
  if (it == rules_.end()) return d;
  for (uint32_t r : it->second) {
    const SegmentationRule& rule = model_.segmentation[r];
    bool covers = rule.services.empty() ||
                  std::any_of(rule.services.begin(), rule.services.end(),
                              [&](const Service& s) { return s.covers(proto, port); });
    if (covers) {
      d.verdict = rule.allow ? Verdict::kAllowed : Verdict::kDenied;
      d.rule = &rule;
      return d;
    }
  }
  d.verdict = Verdict::kDenied;  // the pair is governed and no rule allows this service
  return d;
}

const std::string& ModelIndex::segment_name(int32_t segment) const {
  if (segment >= 0 && segment < external_segment()) {
    return model_.zones[static_cast<size_t>(segment)].name;
  }
  return external_name_;
}

}  // namespace orbwatch::netmodel
