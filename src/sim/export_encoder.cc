#include "sim/export_encoder.h"

#include <algorithm>
#include <cstring>

namespace orbwatch::sim {
namespace {

constexpr size_t kV5Header = 24, kV5Record = 48, kV5MaxRecords = 30;
constexpr size_t kV9Header = 20, kIpfixHeader = 16;
constexpr uint16_t kTemplateV4 = 256, kTemplateV6 = 257;

struct Field {
  uint16_t id, len;
};
// The fields after the addresses, the same in both families; the times differ by protocol.
constexpr Field kCommon[] = {{7, 2}, {11, 2}, {4, 1},  {6, 1},  {5, 1},  {61, 1},
                             {1, 8}, {2, 8},  {10, 4}, {14, 4}, {16, 4}, {17, 4}};
constexpr Field kV9Times[] = {{22, 4}, {21, 4}};       // FIRST/LAST_SWITCHED (uptime ms)
constexpr Field kIpfixTimes[] = {{152, 8}, {153, 8}};  // flowStart/EndMilliseconds

constexpr size_t common_len() {
  size_t n = 0;
  for (const Field& f : kCommon) n += f.len;
  return n;
}

void be16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void be32(std::vector<uint8_t>& b, uint32_t v) {
  be16(b, static_cast<uint16_t>(v >> 16));
  be16(b, static_cast<uint16_t>(v));
}
void be64(std::vector<uint8_t>& b, uint64_t v) {
  be32(b, static_cast<uint32_t>(v >> 32));
  be32(b, static_cast<uint32_t>(v));
}
void patch16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
void patch32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  patch16(b, at, static_cast<uint16_t>(v >> 16));
  patch16(b, at + 2, static_cast<uint16_t>(v));
}
void addr(std::vector<uint8_t>& b, const IpAddr& a, bool v6) {
  const uint8_t* p = a.b.data() + (v6 ? 0 : 12);
  b.insert(b.end(), p, p + (v6 ? 16 : 4));
}
uint32_t clamp32(uint64_t v) {
  return static_cast<uint32_t>(std::min<uint64_t>(v, UINT32_MAX));
}

}  // namespace

bool parse_export_format(std::string_view text, ExportFormat& out) {
  if (text == "v5" || text == "netflow5") {
    out = ExportFormat::kV5;
  } else if (text == "v9" || text == "netflow9") {
    out = ExportFormat::kV9;
  } else if (text == "ipfix") {
    out = ExportFormat::kIpfix;
  } else {
    return false;
  }
  return true;
}

const char* export_format_name(ExportFormat f) {
  switch (f) {
    case ExportFormat::kV5:
      return "v5";
    case ExportFormat::kV9:
      return "v9";
    case ExportFormat::kIpfix:
      return "ipfix";
  }
  return "?";
}

ExportEncoder::ExportEncoder(ExportEncoderOptions options) : o_(options) {
  o_.max_datagram = std::clamp<size_t>(o_.max_datagram, 256, 65000);
  o_.template_every = std::max<uint32_t>(1, o_.template_every);
  buf_.reserve(o_.max_datagram);
}

uint32_t ExportEncoder::uptime(int64_t ms) {
  // Modulo 2^32, as a router's counter wraps; decoders take signed differences.
  return static_cast<uint32_t>(static_cast<uint64_t>(ms - boot_ms_));
}

void ExportEncoder::put_record(const FlowRecord& r, bool v6) {
  if (o_.format == ExportFormat::kV5) {
    addr(buf_, r.src, false);
    addr(buf_, r.dst, false);
    be32(buf_, 0);  // next hop
    be16(buf_, static_cast<uint16_t>(std::min<uint32_t>(r.in_if, 0xffff)));
    be16(buf_, static_cast<uint16_t>(std::min<uint32_t>(r.out_if, 0xffff)));
    be32(buf_, clamp32(r.packets));
    be32(buf_, clamp32(r.bytes));
    be32(buf_, uptime(r.start_ms));
    be32(buf_, uptime(r.end_ms));
    be16(buf_, r.src_port);
    be16(buf_, r.dst_port);
    buf_.push_back(0);
    buf_.push_back(r.tcp_flags);
    buf_.push_back(r.proto);
    buf_.push_back(r.tos);
    be16(buf_, static_cast<uint16_t>(r.src_as <= 0xffff ? r.src_as : 23456));  // AS_TRANS
    be16(buf_, static_cast<uint16_t>(r.dst_as <= 0xffff ? r.dst_as : 23456));
    buf_.push_back(r.src_mask);
    buf_.push_back(r.dst_mask);
    be16(buf_, 0);
    return;
  }
  addr(buf_, r.src, v6);
  addr(buf_, r.dst, v6);
  be16(buf_, r.src_port);
  be16(buf_, r.dst_port);
  buf_.push_back(r.proto);
  buf_.push_back(r.tcp_flags);
  buf_.push_back(r.tos);
  buf_.push_back(r.direction == FlowDirection::kEgress ? 1 : 0);
  be64(buf_, r.bytes);
  be64(buf_, r.packets);
  be32(buf_, r.in_if);
  be32(buf_, r.out_if);
  be32(buf_, r.src_as);
  be32(buf_, r.dst_as);
  if (o_.format == ExportFormat::kV9) {
    be32(buf_, uptime(r.start_ms));
    be32(buf_, uptime(r.end_ms));
  } else {
    be64(buf_, static_cast<uint64_t>(r.start_ms));
    be64(buf_, static_cast<uint64_t>(r.end_ms));
  }
}

void ExportEncoder::encode(std::span<const FlowRecord> records, const Emit& emit) {
  const bool v5 = o_.format == ExportFormat::kV5;
  const size_t time_len = o_.format == ExportFormat::kV9 ? 8 : 16;
  for (const FlowRecord& r : records) {
    const bool v6 = !r.src.is_v4() || !r.dst.is_v4();
    if (v5 && v6) {
      ++skipped_;
      continue;
    }
    if (boot_ms_ == INT64_MIN) boot_ms_ = r.start_ms - 3'600'000;  // "up" an hour before
    const size_t len = v5 ? kV5Record : (v6 ? 32 : 8) + common_len() + time_len;
    if (v5) {
      if (count_ == kV5MaxRecords) flush(emit);
    } else {
      const bool new_set = set_v6_ != static_cast<int>(v6);
      if (count_ > 0 && buf_.size() + (new_set ? 4 : 0) + len + 3 > o_.max_datagram) flush(emit);
    }
    if (buf_.empty()) {
      buf_.resize(v5 ? kV5Header : o_.format == ExportFormat::kV9 ? kV9Header : kIpfixHeader);
      if (!v5 && since_templates_ == 0) {
        // Template set: both families.
        const size_t at = buf_.size();
        be16(buf_, o_.format == ExportFormat::kV9 ? 0 : 2);
        be16(buf_, 0);
        for (const bool fam : {false, true}) {
          be16(buf_, fam ? kTemplateV6 : kTemplateV4);
          const auto& times = o_.format == ExportFormat::kV9 ? kV9Times : kIpfixTimes;
          be16(buf_, static_cast<uint16_t>(2 + std::size(kCommon) + std::size(times)));
          be16(buf_, fam ? 27 : 8);
          be16(buf_, fam ? 16 : 4);
          be16(buf_, fam ? 28 : 12);
          be16(buf_, fam ? 16 : 4);
          for (const Field& f : kCommon) {
            be16(buf_, f.id);
            be16(buf_, f.len);
          }
          for (const Field& f : times) {
            be16(buf_, f.id);
            be16(buf_, f.len);
          }
          if (o_.format == ExportFormat::kV9) ++count_;  // v9 counts template records too
        }
        patch16(buf_, at + 2, static_cast<uint16_t>(buf_.size() - at));
      }
      set_v6_ = -1;
    }
    if (!v5 && set_v6_ != static_cast<int>(v6)) {
      if (set_v6_ >= 0) {
        while ((buf_.size() - set_at_) % 4 != 0) buf_.push_back(0);
        patch16(buf_, set_at_ + 2, static_cast<uint16_t>(buf_.size() - set_at_));
      }
      set_at_ = buf_.size();
      be16(buf_, v6 ? kTemplateV6 : kTemplateV4);
      be16(buf_, 0);
      set_v6_ = v6;
    }
    put_record(r, v6);
    ++count_;
    ++records_;
    latest_ms_ = std::max(latest_ms_, r.end_ms);
  }
  flush(emit);
}

void ExportEncoder::flush(const Emit& emit) {
  if (buf_.empty()) return;
  if (set_v6_ >= 0) {
    while ((buf_.size() - set_at_) % 4 != 0) buf_.push_back(0);
    patch16(buf_, set_at_ + 2, static_cast<uint16_t>(buf_.size() - set_at_));
  }
  const auto secs = static_cast<uint32_t>(latest_ms_ / 1000);
  switch (o_.format) {
    case ExportFormat::kV5:
      patch16(buf_, 0, 5);
      patch16(buf_, 2, static_cast<uint16_t>(count_));
      patch32(buf_, 4, uptime(latest_ms_));
      patch32(buf_, 8, secs);
      patch32(buf_, 12, static_cast<uint32_t>(latest_ms_ % 1000) * 1'000'000);
      patch32(buf_, 16, sequence_);
      buf_[20] = static_cast<uint8_t>(o_.source_id >> 8);
      buf_[21] = static_cast<uint8_t>(o_.source_id);
      sequence_ += static_cast<uint32_t>(count_);
      break;
    case ExportFormat::kV9:
      patch16(buf_, 0, 9);
      patch16(buf_, 2, static_cast<uint16_t>(count_));
      // The decoder takes boot = unix_secs * 1000 - uptime: uptime at the whole second.
      patch32(buf_, 4, uptime(int64_t{secs} * 1000));
      patch32(buf_, 8, secs);
      patch32(buf_, 12, sequence_++);
      patch32(buf_, 16, o_.source_id);
      break;
    case ExportFormat::kIpfix:
      patch16(buf_, 0, 10);
      patch16(buf_, 2, static_cast<uint16_t>(buf_.size()));
      patch32(buf_, 4, secs);
      patch32(buf_, 8, sequence_);
      patch32(buf_, 12, o_.source_id);
      sequence_ += static_cast<uint32_t>(count_);  // data records only
      break;
  }
  if (o_.format != ExportFormat::kV5) since_templates_ = (since_templates_ + 1) % o_.template_every;
  emit(buf_, latest_ms_);
  ++datagrams_;
  buf_.clear();
  count_ = 0;
  set_v6_ = -1;
}

}  // namespace orbwatch::sim
