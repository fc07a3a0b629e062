// Builders for NetFlow v5 / v9 and IPFIX export messages in tests, fuzz seeds and benchmarks.
// Sets are opened with begin_set() and closed with end_set(), which patches the set length;
// finish() patches the message header (v9 count, IPFIX length) and returns the bytes.
#pragma once

#include <vector>

#include "util/wire_builder.h"

namespace orbwatch::test {

struct FieldSpec {
  uint16_t id;
  uint16_t len;
  uint32_t pen = 0;  // IPFIX enterprise number (sets the enterprise bit)
};

template <class Self>
class SetMessageBuilder {
 public:
  WireBuilder w;

  Self& begin_set(uint16_t id) {
    set_at_ = w.mark();
    w.be16(id).be16(0);
    return self();
  }
  // pad: zero bytes added to the set before its length is patched (RFC 7011 3.3.1 padding).
  Self& end_set(size_t pad = 0) {
    w.zeros(pad);
    w.patch_be16(set_at_ + 2, static_cast<uint16_t>(w.size() - set_at_));
    return self();
  }
  Self& template_record(uint16_t id, std::initializer_list<FieldSpec> fields) {
    return template_record(id, std::vector<FieldSpec>(fields));
  }
  Self& template_record(uint16_t id, const std::vector<FieldSpec>& fields) {
    w.be16(id).be16(static_cast<uint16_t>(fields.size()));
    for (const auto& f : fields) field(f);
    ++records_;
    return self();
  }

 protected:
  Self& self() { return static_cast<Self&>(*this); }
  void field(const FieldSpec& f) {
    w.be16(f.pen != 0 ? static_cast<uint16_t>(f.id | 0x8000) : f.id).be16(f.len);
    if (f.pen != 0) w.be32(f.pen);
  }
  size_t set_at_ = 0;
  uint16_t records_ = 0;
};

class V9Builder : public SetMessageBuilder<V9Builder> {
 public:
  V9Builder(uint32_t uptime_ms, uint32_t unix_secs, uint32_t seq, uint32_t source_id) {
    w.be16(9).be16(0).be32(uptime_ms).be32(unix_secs).be32(seq).be32(source_id);
  }
  V9Builder& options_template(uint16_t id, std::initializer_list<FieldSpec> scope,
                              std::initializer_list<FieldSpec> options) {
    w.be16(id)
        .be16(static_cast<uint16_t>(scope.size() * 4))
        .be16(static_cast<uint16_t>(options.size() * 4));
    for (const auto& f : scope) field(f);
    for (const auto& f : options) field(f);
    ++records_;
    return *this;
  }
  // v9 header count: records of all kinds; tests set it explicitly when they care.
  std::vector<uint8_t> finish(uint16_t count = 0) {
    w.patch_be16(2, count != 0 ? count : records_);
    return w.vec();
  }
};

class IpfixBuilder : public SetMessageBuilder<IpfixBuilder> {
 public:
  IpfixBuilder(uint32_t export_secs, uint32_t seq, uint32_t domain) {
    w.be16(10).be16(0).be32(export_secs).be32(seq).be32(domain);
  }
  IpfixBuilder& options_template(uint16_t id, uint16_t scope_count,
                                 std::initializer_list<FieldSpec> fields) {
    w.be16(id).be16(static_cast<uint16_t>(fields.size())).be16(scope_count);
    for (const auto& f : fields) field(f);
    return *this;
  }
  IpfixBuilder& withdraw(uint16_t id) {
    w.be16(id).be16(0);
    return *this;
  }
  std::vector<uint8_t> finish() {
    w.patch_be16(2, static_cast<uint16_t>(w.size()));
    return w.vec();
  }
};

// One NetFlow v5 datagram; add records with record().
class V5Builder {
 public:
  WireBuilder w;
  V5Builder(uint32_t uptime_ms, uint32_t secs, uint32_t nsecs, uint32_t seq, uint16_t sampling = 0,
            uint8_t engine_type = 0, uint8_t engine_id = 0) {
    w.be16(5)
        .be16(0)
        .be32(uptime_ms)
        .be32(secs)
        .be32(nsecs)
        .be32(seq)
        .u8(engine_type)
        .u8(engine_id)
        .be16(sampling);
  }
  V5Builder& record(std::string_view src, std::string_view dst, uint16_t sport, uint16_t dport,
                    uint8_t proto, uint32_t packets, uint32_t bytes, uint32_t first, uint32_t last,
                    uint8_t flags = 0, uint16_t in_if = 1, uint16_t out_if = 2, uint16_t src_as = 0,
                    uint16_t dst_as = 0) {
    w.ipv4(src)
        .ipv4(dst)
        .ipv4("0.0.0.0")
        .be16(in_if)
        .be16(out_if)
        .be32(packets)
        .be32(bytes)
        .be32(first)
        .be32(last)
        .be16(sport)
        .be16(dport)
        .u8(0)
        .u8(flags)
        .u8(proto)
        .u8(0)
        .be16(src_as)
        .be16(dst_as)
        .u8(24)
        .u8(16)
        .be16(0);
    ++count_;
    return *this;
  }
  std::vector<uint8_t> finish() {
    w.patch_be16(2, count_);
    return w.vec();
  }

 private:
  uint16_t count_ = 0;
};

}  // namespace orbwatch::test
