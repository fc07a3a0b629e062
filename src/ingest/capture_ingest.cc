#include "ingest/capture_ingest.h"

#include <algorithm>

namespace orbwatch::ingest {

const char* capture_error_name(CaptureError e) {
  switch (e) {
    case CaptureError::kTruncatedPacket:
      return "truncated_packet";
    case CaptureError::kMalformedPacket:
      return "malformed_packet";
    case CaptureError::kFileTruncated:
      return "file_truncated";
    case CaptureError::kReadError:
      return "read_error";
    case CaptureError::kCount:
      break;
  }
  return "none";
}

uint64_t CaptureStats::exports_total() const {
  uint64_t n = 0;
  for (uint64_t v : exports) n += v;
  return n;
}

uint64_t CaptureStats::total_errors() const {
  uint64_t n = 0;
  for (uint64_t v : errors) n += v;
  return n;
}

std::string CaptureStats::last_error_text() const {
  if (last_error == CaptureError::kCount) return {};
  std::string s = last_error_source + ": packet " + std::to_string(last_error_packet) + ": " +
                  capture_error_name(last_error);
  if (!last_error_detail.empty()) s += " (" + last_error_detail + ")";
  return s;
}

CaptureIngest::CaptureIngest(CaptureOptions options, DatagramFn on_datagram, FlowsFn on_flows)
    : options_(std::move(options)),
      on_datagram_(std::move(on_datagram)),
      on_flows_(std::move(on_flows)),
      meter_(options_.meter) {
  for (uint16_t p : options_.decode_ports) port_bits_[p >> 6] |= uint64_t{1} << (p & 63);
  if (options_.batch_size == 0) options_.batch_size = 1;
}

bool CaptureIngest::is_decode_port(uint16_t port) const {
  return is_export_port(port) || (port_bits_[port >> 6] >> (port & 63)) & 1;
}

void CaptureIngest::fail(CaptureError e, const std::string& source, uint64_t packet) {
  ++stats_.errors[static_cast<size_t>(e)];
  stats_.last_error = e;
  if (stats_.last_error_source != source) stats_.last_error_source = source;
  stats_.last_error_packet = packet;
  stats_.last_error_detail.clear();
}

void CaptureIngest::on_packet(const PacketView& pkt, const std::string& source) {
  if (source != current_source_) {
    current_source_ = source;
    source_packets_ = 0;
  }
  ++source_packets_;
  ++stats_.packets;
  stats_.bytes += pkt.wire_len;
  int64_t ts_ms = pkt.ts_ms();

  PacketInfo info;
  PacketStatus st = parse_packet(pkt.data, pkt.caplen, pkt.link, info);
  // An IP length beyond the frame's on-wire length is a corrupt header, not a snaplen cut (that
  // shortens caplen, never wire_len): an IP stack drops such a packet, and metering it would
  // count bytes that never crossed the link.
  size_t wire = std::max<size_t>(pkt.wire_len, pkt.caplen);
  if (st == PacketStatus::kOk && info.ip_len > wire - std::min<size_t>(wire, info.l3_offset)) {
    st = PacketStatus::kMalformed;
  }
  if (st == PacketStatus::kOk && info.proto == 17 && info.l4_valid && on_datagram_ &&
      !options_.force_meter && is_decode_port(info.dst_port)) {
    if (info.is_fragment) {
      ++stats_.export_fragments;
    } else {
      std::span<const uint8_t> payload(info.payload, info.payload_len);
      ExportKind kind = sniff_export(payload);
      if (kind != ExportKind::kNone) {
        ++stats_.exports[static_cast<size_t>(kind)];
        Datagram d;
        d.data = payload;
        d.exporter = info.src;
        d.exporter_port = info.src_port;
        d.local_port = info.dst_port;
        d.recv_ms = ts_ms;
        on_datagram_(d);
        return;
      }
    }
  }
  switch (st) {
    case PacketStatus::kOk:
      ++stats_.metered;
      break;
    case PacketStatus::kNotIp:
      ++stats_.non_ip;
      break;
    case PacketStatus::kTruncated:
      fail(CaptureError::kTruncatedPacket, source, source_packets_);
      break;
    case PacketStatus::kMalformed:
      fail(CaptureError::kMalformedPacket, source, source_packets_);
      break;
  }
  meter_.process(st, info, ts_ms, batch_);
  deliver(false);
}

void CaptureIngest::deliver(bool force) {
  if (batch_.empty() || (!force && batch_.size() < options_.batch_size)) return;
  stats_.flows += batch_.size();
  if (on_flows_) on_flows_(batch_);
  batch_.clear();
}

bool CaptureIngest::run(PacketSource& src, const std::function<bool()>& tick) {
  PacketView pkt;
  for (uint64_t n = 1;; ++n) {
    switch (src.next(pkt)) {
      case PacketSource::Next::kPacket:
        on_packet(pkt, src.name());
        if (tick && n % 1024 == 0 && !tick()) return true;
        break;
      case PacketSource::Next::kEnd:
      case PacketSource::Next::kTimeout:  // live: the caller decides whether to go on
        return true;
      case PacketSource::Next::kError:
        fail(src.truncated() ? CaptureError::kFileTruncated : CaptureError::kReadError, src.name(),
             src.packets() + 1);
        stats_.last_error_detail = src.error();
        return false;
    }
  }
}

void CaptureIngest::finish() {
  meter_.flush(batch_);
  deliver(true);
}

const CaptureStats& CaptureIngest::stats() {
  stats_.meter = meter_.stats();
  return stats_;
}

}  // namespace orbwatch::ingest
