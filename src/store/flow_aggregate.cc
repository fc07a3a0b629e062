#include "store/flow_aggregate.h"

#include <algorithm>
#include <cstring>

#include "core/time.h"
#include "store/segment_columns.h"

namespace orbwatch::store {

namespace {

struct FieldName {
  std::string_view name;
  std::string_view nfdump;  // nfdump's -s / -A name
  GroupField field;
};

constexpr FieldName kFields[] = {
    {"src_ip", "srcip", GroupField::kSrcIp},
    {"dst_ip", "dstip", GroupField::kDstIp},
    {"ip", "ip", GroupField::kIp},
    {"src_port", "srcport", GroupField::kSrcPort},
    {"dst_port", "dstport", GroupField::kDstPort},
    {"port", "port", GroupField::kPort},
    {"proto", "proto", GroupField::kProto},
    {"src_as", "srcas", GroupField::kSrcAs},
    {"dst_as", "dstas", GroupField::kDstAs},
    {"as", "as", GroupField::kAs},
    {"exporter", "router", GroupField::kExporter},
    {"in_if", "inif", GroupField::kInIf},
    {"out_if", "outif", GroupField::kOutIf},
    {"tos", "tos", GroupField::kTos},
};

bool both_sides(GroupField f) {
  return f == GroupField::kIp || f == GroupField::kPort || f == GroupField::kAs;
}

uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t metric(const GroupTotals& t, GroupOrder o) {
  switch (o) {
    case GroupOrder::kFlows:
      return t.flows;
    case GroupOrder::kPackets:
      return t.packets;
    case GroupOrder::kBytes:
      return t.bytes;
  }
  return 0;
}

bool key_less(const GroupKey& a, const GroupKey& b) {
  for (int i = 0; i < 2; ++i) {
    if (const int c = std::memcmp(a.ip[i].b.data(), b.ip[i].b.data(), 16); c != 0) return c < 0;
  }
  return std::lexicographical_compare(a.n, a.n + 4, b.n, b.n + 4);
}

}  // namespace

std::optional<GroupSpec> parse_group_by(std::string_view text, std::string& error) {
  GroupSpec spec;
  size_t addrs = 0, numbers = 0;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view word = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    while (!word.empty() && word.front() == ' ') word.remove_prefix(1);
    while (!word.empty() && word.back() == ' ') word.remove_suffix(1);
    const auto* f = std::find_if(std::begin(kFields), std::end(kFields), [&](const FieldName& n) {
      return n.name == word || n.nfdump == word;
    });
    if (f == std::end(kFields)) {
      error = "unknown field '" + std::string(word) +
              "' (known: src_ip dst_ip ip src_port dst_port port proto src_as dst_as as exporter "
              "in_if out_if tos)";
      return std::nullopt;
    }
    if (std::find(spec.fields.begin(), spec.fields.end(), f->field) != spec.fields.end()) {
      error = "field '" + std::string(word) + "' given twice";
      return std::nullopt;
    }
    (is_address_field(f->field) ? addrs : numbers) += 1;
    spec.fields.push_back(f->field);
  }
  if (spec.fields.empty()) {
    error = "no field to group by";
    return std::nullopt;
  }
  if (addrs > 2 || numbers > 4) {
    error = "at most two address fields and four other fields";
    return std::nullopt;
  }
  if (spec.fields.size() > 1 && std::any_of(spec.fields.begin(), spec.fields.end(), both_sides)) {
    error = "ip, port and as (either side) cannot be combined with other fields";
    return std::nullopt;
  }
  return spec;
}

uint32_t GroupSpec::columns() const {
  namespace c = segment::column;
  uint32_t m = c::kStart | c::kEnd | c::kBytes | c::kPackets;
  for (GroupField f : fields) {
    switch (f) {
      case GroupField::kSrcIp:
        m |= c::kSrc;
        break;
      case GroupField::kDstIp:
        m |= c::kDst;
        break;
      case GroupField::kIp:
        m |= c::kSrc | c::kDst;
        break;
      case GroupField::kSrcPort:
        m |= c::kSrcPort;
        break;
      case GroupField::kDstPort:
        m |= c::kDstPort;
        break;
      case GroupField::kPort:
        m |= c::kSrcPort | c::kDstPort;
        break;
      case GroupField::kProto:
        m |= c::kProto;
        break;
      case GroupField::kSrcAs:
        m |= c::kSrcAs;
        break;
      case GroupField::kDstAs:
        m |= c::kDstAs;
        break;
      case GroupField::kAs:
        m |= c::kSrcAs | c::kDstAs;
        break;
      case GroupField::kExporter:
        m |= c::kExporter;
        break;
      case GroupField::kInIf:
        m |= c::kInIf;
        break;
      case GroupField::kOutIf:
        m |= c::kOutIf;
        break;
      case GroupField::kTos:
        m |= c::kTos;
        break;
    }
  }
  return m;
}

std::string_view group_field_name(GroupField f) {
  for (const auto& n : kFields) {
    if (n.field == f) return n.name;
  }
  return "?";
}

bool is_address_field(GroupField f) {
  return f == GroupField::kSrcIp || f == GroupField::kDstIp || f == GroupField::kIp ||
         f == GroupField::kExporter;
}

bool GroupKey::operator==(const GroupKey& o) const {
  // Word compares: the memcmp calls of the member-wise compare were a tenth of a top-N.
  static_assert(sizeof(GroupKey) == 48);
  uint64_t x[6], y[6];
  std::memcpy(x, this, sizeof x);
  std::memcpy(y, &o, sizeof y);
  return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4]) |
          (x[5] ^ y[5])) == 0;
}

size_t GroupKeyHash::operator()(const GroupKey& k) const {
  uint64_t w[12];
  std::memcpy(w, k.ip[0].b.data(), 16);
  std::memcpy(w + 2, k.ip[1].b.data(), 16);
  std::memcpy(w + 4, k.n, 16);
  uint64_t h = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < 6; ++i) h = mix(h ^ w[i]);
  return static_cast<size_t>(h);
}

GroupValue group_value(const GroupSpec& spec, const GroupKey& key, size_t i) {
  size_t a = 0, n = 0;
  for (size_t k = 0; k < i; ++k) (is_address_field(spec.fields[k]) ? a : n) += 1;
  GroupValue v;
  if (is_address_field(spec.fields[i])) {
    v.addr = key.ip[a];
  } else {
    v.number = key.n[n];
  }
  return v;
}

void GroupTotals::add(const FlowRecord& r) {
  if (flows == 0) {
    first_ms = r.start_ms;
    last_ms = r.end_ms;
  }
  ++flows;
  packets += r.packets;
  bytes += r.bytes;
  first_ms = std::min(first_ms, r.start_ms);
  last_ms = std::max(last_ms, r.end_ms);
}

void GroupTotals::merge(const GroupTotals& o) {
  if (o.flows == 0) return;
  if (flows == 0) {
    *this = o;
    return;
  }
  flows += o.flows;
  packets += o.packets;
  bytes += o.bytes;
  first_ms = std::min(first_ms, o.first_ms);
  last_ms = std::max(last_ms, o.last_ms);
}

std::optional<GroupOrder> parse_group_order(std::string_view text) {
  if (text == "flows") return GroupOrder::kFlows;
  if (text == "packets") return GroupOrder::kPackets;
  if (text == "bytes") return GroupOrder::kBytes;
  return std::nullopt;
}

Aggregator::Aggregator(GroupSpec spec, size_t max_groups)
    : spec_(std::move(spec)), max_groups_(max_groups) {
  both_sides_ = spec_.fields.size() == 1 && both_sides(spec_.fields[0]);
  if (spec_.fields.size() == 1) {
    const GroupField f = spec_.fields[0];
    dense_ = f == GroupField::kSrcPort || f == GroupField::kDstPort || f == GroupField::kPort ||
             f == GroupField::kProto || f == GroupField::kTos;
  }
}

GroupTotals* Aggregator::find_or_add(const GroupKey& k, uint64_t h) {
  if (dense_) {
    GroupTotals& t = table_[k.n[0] & 0xffff];
    if (t.flows == 0) {
      if (size_ >= max_groups_) {
        overflowed_ = true;
        return nullptr;
      }
      ++size_;
    }
    return &t;
  }
  const auto tag = static_cast<uint32_t>(h >> 32);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot s = slots_[i];
    if (s.entry == 0) break;
    if (s.tag == tag && entries_[s.entry - 1].key == k) return &entries_[s.entry - 1].totals;
  }
  if (size_ >= max_groups_) {
    overflowed_ = true;
    return nullptr;
  }
  if (2 * (size_ + 1) > slots_.size()) {
    // Twice the slots, entries re-placed by their hashes.
    slots_.assign(slots_.size() * 2, Slot{});
    for (size_t e = 0; e < entries_.size(); ++e) place(entries_[e].hash, static_cast<uint32_t>(e));
  }
  entries_.push_back({k, {}, h});
  place(h, static_cast<uint32_t>(entries_.size() - 1));
  ++size_;
  return &entries_.back().totals;
}

void Aggregator::place(uint64_t h, uint32_t entry) {
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  while (slots_[i].entry != 0) i = (i + 1) & mask;
  slots_[i] = {static_cast<uint32_t>(h >> 32), entry + 1};
}

void Aggregator::add(const FlowRecord& r) {
  add(&r, 1);
}

void Aggregator::add(const FlowRecord* rs, size_t count) {
  // Keys are made a chunk at a time, then looked up with the table lines of the keys a few
  // places ahead prefetched: the lookups are random accesses into tables larger than the cache.
  constexpr size_t kChunk = 256;
  constexpr size_t kAhead = 8;
  if (dense_ && table_.empty()) table_.resize(65536);
  if (!dense_ && slots_.empty()) slots_.resize(1024);
  for (size_t at = 0; at < count; at += kChunk) {
    const size_t m = std::min(kChunk, count - at);
    pending_.clear();
    for (size_t i = 0; i < m; ++i) {
      const FlowRecord& r = rs[at + i];
      total_.add(r);
      const auto rec = static_cast<uint32_t>(at + i);
      if (both_sides_) {
        GroupKey k;
        switch (spec_.fields[0]) {
          case GroupField::kIp:
            k.ip[0] = r.src;
            pending_.push_back({k, 0, rec});
            k.ip[0] = r.dst;
            break;
          case GroupField::kPort:
            k.n[0] = r.src_port;
            pending_.push_back({k, 0, rec});
            k.n[0] = r.dst_port;
            break;
          default:  // kAs
            k.n[0] = r.src_as;
            pending_.push_back({k, 0, rec});
            k.n[0] = r.dst_as;
            break;
        }
        pending_.push_back({k, 0, rec});
      } else {
        pending_.push_back({key_of(r), 0, rec});
      }
    }
    if (!dense_) {
      for (auto& p : pending_) p.hash = GroupKeyHash{}(p.key);
    }
    for (size_t j = 0; j < pending_.size(); ++j) {
      if (j + kAhead < pending_.size()) {
        const Pending& next = pending_[j + kAhead];
        __builtin_prefetch(dense_ ? static_cast<const void*>(&table_[next.key.n[0] & 0xffff])
                                  : &slots_[next.hash & (slots_.size() - 1)]);
      }
      if (!dense_ && j + kAhead / 2 < pending_.size()) {
        // The slot line arrived: prefetch the entry it most likely names.
        const Pending& near = pending_[j + kAhead / 2];
        const Slot s = slots_[near.hash & (slots_.size() - 1)];
        if (s.entry != 0) __builtin_prefetch(&entries_[s.entry - 1]);
      }
      const Pending& p = pending_[j];
      if (GroupTotals* t = find_or_add(p.key, p.hash)) t->add(rs[p.record]);
    }
  }
}

GroupKey Aggregator::key_of(const FlowRecord& r) const {
  GroupKey k;
  size_t a = 0, n = 0;
  for (GroupField f : spec_.fields) {
    switch (f) {
      case GroupField::kSrcIp:
        k.ip[a++] = r.src;
        break;
      case GroupField::kDstIp:
        k.ip[a++] = r.dst;
        break;
      case GroupField::kExporter:
        k.ip[a++] = r.exporter;
        break;
      case GroupField::kSrcPort:
        k.n[n++] = r.src_port;
        break;
      case GroupField::kDstPort:
        k.n[n++] = r.dst_port;
        break;
      case GroupField::kProto:
        k.n[n++] = r.proto;
        break;
      case GroupField::kSrcAs:
        k.n[n++] = r.src_as;
        break;
      case GroupField::kDstAs:
        k.n[n++] = r.dst_as;
        break;
      case GroupField::kInIf:
        k.n[n++] = r.in_if;
        break;
      case GroupField::kOutIf:
        k.n[n++] = r.out_if;
        break;
      case GroupField::kTos:
        k.n[n++] = r.tos;
        break;
      case GroupField::kIp:
      case GroupField::kPort:
      case GroupField::kAs:
        break;  // alone only (parse_group_by)
    }
  }
  return k;
}

void Aggregator::merge(const Aggregator& other) {
  total_.merge(other.total_);
  overflowed_ = overflowed_ || other.overflowed_;
  if (dense_ && table_.empty()) table_.resize(65536);
  if (!dense_ && slots_.empty()) slots_.resize(1024);
  for (const Entry& e : other.entries_) {
    if (GroupTotals* t = find_or_add(e.key, e.hash)) t->merge(e.totals);
  }
  for (size_t v = 0; v < other.table_.size(); ++v) {
    if (other.table_[v].flows == 0) continue;
    GroupKey k;
    k.n[0] = static_cast<uint32_t>(v);
    if (GroupTotals* t = find_or_add(k, 0)) t->merge(other.table_[v]);
  }
}

std::vector<std::pair<GroupKey, GroupTotals>> Aggregator::top(GroupOrder order, size_t n) const {
  std::vector<std::pair<GroupKey, GroupTotals>> out;
  out.reserve(size_);
  for (const Entry& e : entries_) out.emplace_back(e.key, e.totals);
  for (size_t v = 0; v < table_.size(); ++v) {
    if (table_[v].flows == 0) continue;
    GroupKey k;
    k.n[0] = static_cast<uint32_t>(v);
    out.emplace_back(k, table_[v]);
  }
  auto before = [order](const auto& a, const auto& b) {
    const uint64_t x = metric(a.second, order), y = metric(b.second, order);
    return x != y ? x > y : key_less(a.first, b.first);
  };
  if (n != 0 && n < out.size()) {
    std::partial_sort(out.begin(), out.begin() + static_cast<ptrdiff_t>(n), out.end(), before);
    out.resize(n);
  } else {
    std::sort(out.begin(), out.end(), before);
  }
  return out;
}

void append_group_json(std::string& out, const GroupSpec& spec, const GroupKey& key,
                       const GroupTotals& t) {
  out += '{';
  for (size_t i = 0; i < spec.fields.size(); ++i) {
    out += '"';
    out += group_field_name(spec.fields[i]);
    out += "\":";
    const GroupValue v = group_value(spec, key, i);
    if (is_address_field(spec.fields[i])) {
      out += '"';
      out += v.addr.to_string();
      out += '"';
    } else {
      out += std::to_string(v.number);
    }
    out += ',';
  }
  out += "\"flows\":" + std::to_string(t.flows) + ",\"packets\":" + std::to_string(t.packets) +
         ",\"bytes\":" + std::to_string(t.bytes) + ",\"first_seen\":\"" + rfc3339_ms(t.first_ms) +
         "\",\"last_seen\":\"" + rfc3339_ms(t.last_ms) + "\"}\n";
}

}  // namespace orbwatch::store
