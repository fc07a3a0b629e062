// ModelIndex: the network model compiled for per-flow classification. One prefix-table lookup
// per address answers everything the model knows about it: its zone, its asset, the named lists
// (and allow-list prefixes) containing it, and whether it is internal. Ids of every kind share
// one table, tagged by kind, so the set the table returns for an address range is decoded once
// at build into a Place.
//
// Threading: immutable after build(); share it with SnapshotHolder like the intel set.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "intel/prefix_table.h"
#include "netmodel/model.h"

namespace orbwatch::netmodel {

// What the model knows about one address.
struct Place {
  int32_t zone = -1;   // index into Model::zones; -1: none
  int32_t asset = -1;  // index into Model::assets; -1: none
  bool internal = false;
  std::span<const uint32_t> lists;  // list ids (see ModelIndex::allowed), ascending
};

class ModelIndex {
 public:
  // The model as read; when it names no internal prefixes the defaults are used (RFC 1918,
  // CGNAT, link-local, ULA).
  static std::shared_ptr<const ModelIndex> build(Model model);
  static std::shared_ptr<const ModelIndex> with_internal(std::vector<Prefix> internal);

  const Model& model() const { return model_; }

  using SetIndex = intel::PrefixTable::SetIndex;
  const Place& place(const IpAddr& a) const { return places_[table_->lookup_set(a)]; }
  // Batched: sets[i] for addrs[i] (the table reads overlap), then place_of(sets[i]).
  void lookup_batch(const IpAddr* addrs, size_t n, SetIndex* sets) const {
    table_->lookup_batch(addrs, n, sets);
  }
  const Place& place_of(SetIndex s) const { return places_[s]; }

  // The allow-list that governs `proto/port` on asset `asset`: the index into its `allow` of
  // its per-service rule, else of its allow_from (for the services it lists, or every service
  // when it lists none); -1 when none does.
  int32_t allow_rule(int32_t asset, uint8_t proto, uint16_t port) const;
  bool allowed(int32_t asset, int32_t rule, const Place& source) const;

  // Segmentation between the zones of two places (the initiator's first).
  enum class Verdict : uint8_t { kUngoverned, kAllowed, kDenied };
  struct Decision {
    Verdict verdict = Verdict::kUngoverned;
    const SegmentationRule* rule = nullptr;  // null for the default deny
    int32_t from = -1, to = -1;              // segment ids: zone index, or external_segment()
  };
  Decision segment(const Place& from, const Place& to, uint8_t proto, uint16_t port) const;
  int32_t external_segment() const { return static_cast<int32_t>(model_.zones.size()); }
  // The zone name of a segment id ("external" for external_segment()).
  const std::string& segment_name(int32_t segment) const;

 private:
  ModelIndex() = default;
  int32_t segment_of(const Place& p) const;

  struct CompiledRule {
    std::vector<int32_t> zones;
    std::vector<uint32_t> lists;
  };

  Model model_;
  std::shared_ptr<const intel::PrefixTable> table_;
  std::vector<Place> places_;          // per set index of table_
  std::vector<uint32_t> place_lists_;  // storage of Place::lists
  // allow_[asset][rule] mirrors model_.assets[asset].allow.
  std::vector<std::vector<CompiledRule>> allow_;
  // (from segment, to segment) -> indices into model_.segmentation, in file order.
  std::unordered_map<uint64_t, std::vector<uint32_t>> rules_;
  std::string external_name_ = "external";
};

}  // namespace orbwatch::netmodel
