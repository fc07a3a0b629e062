// Alerts: filterable (detector, severity, status, address), paged, newest first. The filters
// live in the URL, so a filtered list can be shared.
import * as fmt from '../format';
import { h, replace, table } from '../dom';
import { href } from '../logic';
import { ip, severity, type PageFactory } from '../page';
import type { AlertSummary, StoredAlert } from '../types';

const PAGE = 50;

export const alertsPage: PageFactory = (root, ctx) => {
  const p = ctx.route.params;
  const current = {
    detector: p.get('detector') ?? '',
    severity: p.get('severity') ?? '',
    status: p.get('status') ?? '',
    ip: p.get('ip') ?? '',
    offset: Number(p.get('offset') ?? 0) || 0,
  };
  const detector = h('select', { name: 'detector', 'aria-label': 'detector' }, h('option', { value: '' }, 'every detector'));
  const sev = h('select', { name: 'severity', 'aria-label': 'severity' }, h('option', { value: '' }, 'any severity'), fmt.SEVERITIES.map((s) => h('option', { value: s }, `${s} or more`)));
  const status = h('select', { name: 'status', 'aria-label': 'status' }, h('option', { value: '' }, 'any status'), ['new', 'ack', 'closed'].map((s) => h('option', { value: s }, s)));
  const addr = h('input', { name: 'ip', placeholder: 'address', 'aria-label': 'address', value: current.ip });
  sev.value = current.severity;
  status.value = current.status;
  const apply = (offset = 0) =>
    ctx.navigate(href('alerts', '', { detector: detector.value, severity: sev.value, status: status.value, ip: addr.value.trim(), offset: offset || undefined }));
  const form = h(
    'form',
    { class: 'filters', onsubmit: (e: Event) => (e.preventDefault(), apply()) },
    detector,
    sev,
    status,
    addr,
    h('button', { type: 'submit', class: 'primary' }, 'Filter'),
    h('a', { href: href('alerts') }, 'clear'),
  );
  for (const el of [detector, sev, status]) el.addEventListener('change', () => apply());
  const list = h('div', { id: 'alert-list' });
  const pager = h('div', { class: 'pager' });
  root.append(h('h1', null, 'Alerts'), form, list, pager);
  let detectorsLoaded = false;

  return {
    async refresh() {
      const [answer, summary] = await Promise.all([
        ctx.api.get<{ alerts: StoredAlert[] }>('/api/v1/alerts', { ...current, offset: current.offset || undefined, limit: PAGE }),
        detectorsLoaded ? Promise.resolve(null) : ctx.api.get<AlertSummary>('/api/v1/alerts/summary', {}),
      ]);
      if (summary && !detectorsLoaded) {
        detectorsLoaded = true;
        const names = new Set([...Object.keys(summary.by_detector), current.detector].filter(Boolean));
        for (const d of [...names].sort()) detector.append(h('option', { value: d }, `${d} (${summary.by_detector[d] ?? 0})`));
        detector.value = current.detector;
      }
      replace(
        list,
        table(
          [
            { title: 'time', value: (a) => fmt.time(a.alert.ts), cls: 'nowrap' },
            { title: 'severity', value: (a) => severity(a.alert.severity) },
            { title: 'detector', value: (a) => a.alert.detector },
            { title: 'summary', value: (a) => h('a', { href: href('alerts', a.alert.id), class: 'alert-link' }, a.alert.summary), cls: 'summary-cell' },
            { title: 'source', value: (a) => ip(ctx, a.alert.src_ip) },
            { title: 'destination', value: (a) => ip(ctx, a.alert.dst_ip) },
            { title: 'flows', value: (a) => fmt.count(a.alert.count), num: true },
            { title: 'status', value: (a) => h('span', { class: `badge ${a.status === 'new' ? 'sev-medium' : 'ok'}` }, a.status) },
          ],
          answer.alerts,
          'no alerts match',
        ),
      );
      replace(
        pager,
        current.offset > 0 ? h('button', { type: 'button', onclick: () => apply(Math.max(0, current.offset - PAGE)) }, '← newer') : null,
        h('span', { class: 'muted' }, answer.alerts.length ? `${current.offset + 1}–${current.offset + answer.alerts.length}` : ''),
        answer.alerts.length === PAGE ? h('button', { type: 'button', onclick: () => apply(current.offset + PAGE) }, 'older →') : null,
      );
    },
  };
};
