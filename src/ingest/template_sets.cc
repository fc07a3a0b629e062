#include "ingest/template_sets.h"

namespace orbwatch::ingest {

namespace {

void decode_pending(uint16_t id, const MessageContext& ctx, ExporterState& ex, FlowBatch& out,
                    DecodeStats& stats) {
  auto held = ex.take_pending(ctx.kind, ctx.domain, id, ctx.recv_ms, stats);
  for (const PendingSet& p : held) {
    const Template* t = ex.find_template(p.kind, p.domain, p.template_id);
    if (t == nullptr) continue;
    MessageContext pctx{p.kind, p.domain, p.export_ms, p.sys_uptime_ms, p.recv_ms, 0};
    decode_data_set(*t, p.bytes.data(), p.bytes.size(), pctx, ex, out, stats);
    ++stats.pending_decoded;
  }
}

bool all_zero(const ByteReader& r) {
  for (size_t i = 0; i < r.remaining(); ++i) {
    if (r.data()[i] != 0) return false;
  }
  return true;
}

}  // namespace

void learn_templates(ByteReader body, bool options, const MessageContext& ctx, ExporterState& ex,
                     FlowBatch& out, DecodeStats& stats) {
  const bool ipfix = ctx.kind == ExportKind::kIpfix;
  // Records continue while a template header (4 bytes) still fits; less, or zeros, is padding.
  while (body.remaining() >= 4 && !all_zero(body)) {
    size_t at = ctx.set_offset + body.offset();
    Template t;
    switch (parse_template(body, ipfix, options, t)) {
      case TemplateParse::kOk: {
        uint16_t id = t.id;
        if (id < 256) {
          stats.fail(DecodeError::kBadTemplate, ex.addr(), at, id);
          continue;
        }
        ex.put_template(ctx.kind, ctx.domain, std::move(t), stats);
        ++stats.templates;
        decode_pending(id, ctx, ex, out, stats);
        break;
      }
      case TemplateParse::kWithdraw:
        // RFC 7011 8.1: a template id equal to the set id withdraws all of that kind.
        if (t.id == (options ? 3 : 2)) {
          stats.templates_withdrawn += ex.withdraw_all(ctx.kind, ctx.domain, options);
        } else if (ex.withdraw_template(ctx.kind, ctx.domain, t.id)) {
          ++stats.templates_withdrawn;
        }
        break;
      case TemplateParse::kTruncated:
      case TemplateParse::kInvalid:
        // The rest of the set cannot be framed once one template is unreadable.
        stats.fail(DecodeError::kBadTemplate, ex.addr(), at, t.id);
        return;
    }
  }
}

std::optional<size_t> data_set(uint16_t template_id, std::span<const uint8_t> body,
                               const MessageContext& ctx, ExporterState& ex, FlowBatch& out,
                               DecodeStats& stats) {
  if (const Template* t = ex.find_template(ctx.kind, ctx.domain, template_id)) {
    return decode_data_set(*t, body.data(), body.size(), ctx, ex, out, stats);
  }
  stats.fail(DecodeError::kNoTemplate, ex.addr(), ctx.set_offset, template_id);
  PendingSet p;
  p.kind = ctx.kind;
  p.domain = ctx.domain;
  p.template_id = template_id;
  p.export_ms = ctx.export_ms;
  p.sys_uptime_ms = ctx.sys_uptime_ms;
  p.recv_ms = ctx.recv_ms;
  p.bytes.assign(body.begin(), body.end());
  ex.hold(std::move(p), stats);
  return std::nullopt;
}

}  // namespace orbwatch::ingest
