// IPFIX (RFC 7011): 16-byte message header, then sets: 2 = templates, 3 = options templates,
// >= 256 = data. Templates are scoped by (exporter address, observation domain).
#include "ingest/netflow.h"
#include "ingest/template_sets.h"

namespace orbwatch::ingest {

void decode_ipfix(const Datagram& dg, ExporterState& ex, FlowBatch& out, DecodeStats& stats) {
  ByteReader r(dg.data);
  uint16_t version = 0, length = 0;
  uint32_t export_time = 0, seq = 0, domain = 0;
  if (!r.u16(version) || !r.u16(length) || !r.u32(export_time) || !r.u32(seq) || !r.u32(domain)) {
    stats.fail(DecodeError::kTruncated, ex.addr(), dg.data.size());
    return;
  }
  if (version != 10) {
    stats.fail(DecodeError::kBadVersion, ex.addr(), 0);
    return;
  }
  if (length < 16 || length > dg.data.size()) {
    stats.fail(DecodeError::kBadLength, ex.addr(), 2, length);
    return;
  }
  // Bytes after `length` belong to no message (RFC 7011 3.1); ignore them.
  r = ByteReader(dg.data.data(), length);
  r.skip(16);
  MessageContext ctx{ExportKind::kIpfix, domain, int64_t{export_time} * 1000, 0, dg.recv_ms, 0};
  DomainState* ds = ex.domain(ExportKind::kIpfix, domain);
  uint32_t sent = 0;  // data records of this message, for the sequence check
  const uint64_t options_before = stats.options_records;
  bool held = false;
  while (r.remaining() >= 4) {
    size_t at = r.offset();
    uint16_t set_id = 0, set_len = 0;
    r.u16(set_id);
    r.u16(set_len);
    ByteReader body(nullptr, 0);
    if (set_len < 4 || !r.sub(set_len - 4, body)) {
      stats.fail(DecodeError::kBadSetLength, ex.addr(), at, set_id);
      break;
    }
    ctx.set_offset = at + 4;
    if (set_id == 2 || set_id == 3) {
      learn_templates(body, set_id == 3, ctx, ex, out, stats);
    } else if (set_id >= 256) {
      auto n = data_set(set_id, {body.data(), body.remaining()}, ctx, ex, out, stats);
      held |= !n.has_value();
      sent += static_cast<uint32_t>(n.value_or(0));
    }
    // Set ids 0, 1 (NetFlow v9 ids) and 4..255 are not used in IPFIX: skipped by length.
  }
  if (r.remaining() != 0 && r.remaining() < 4) {
    stats.fail(DecodeError::kTruncated, ex.addr(), r.offset());
  }
  if (ds != nullptr) {
    // A held set hides its record count, so the tracker restarts instead of guessing.
    auto options = static_cast<uint32_t>(stats.options_records - options_before);
    auto s = ds->ipfix_seq.observe(seq, sent, sent > options ? sent - options : 0);
    if (held) ds->ipfix_seq = RecordSequenceTracker{};
    stats.sequence(s.lost, s.reset);
  }
}

}  // namespace orbwatch::ingest
