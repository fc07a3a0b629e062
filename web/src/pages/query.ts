// Query: the archive's filter language (docs/query.md), flows and a top-N; everything in the
// URL, so a query is shared by sending the link.
import * as fmt from '../format';
import { base, palette } from '../charts';
import { card, h, replace, table } from '../dom';
import { href } from '../logic';
import { ip, type PageFactory } from '../page';
import type { Flow, Top } from '../types';
import { flowTable } from './alert';

const GROUPS = ['src_ip', 'dst_ip', 'ip', 'src_port', 'dst_port', 'port', 'proto', 'src_as', 'dst_as', 'as', 'exporter', 'in_if', 'out_if', 'tos'];
const ADDRESS_FIELDS = new Set(['src_ip', 'dst_ip', 'ip']);

export const queryPage: PageFactory = (root, ctx) => {
  const p = ctx.route.params;
  const filter = h('input', { name: 'filter', class: 'wide', placeholder: "filter, e.g. dst port 22 and not src net 10.0.0.0/8", 'aria-label': 'filter', value: p.get('filter') ?? '' });
  const since = h('input', { name: 'since', placeholder: 'since (1d, RFC 3339)', 'aria-label': 'since', value: p.get('since') ?? '1d' });
  const until = h('input', { name: 'until', placeholder: 'until', 'aria-label': 'until', value: p.get('until') ?? '' });
  const by = h('select', { name: 'by', 'aria-label': 'top by' }, GROUPS.map((g) => h('option', { value: g }, g)));
  const order = h('select', { name: 'order', 'aria-label': 'order' }, ['flows', 'packets', 'bytes'].map((o) => h('option', { value: o }, o)));
  by.value = p.get('by') ?? 'src_ip';
  order.value = p.get('order') ?? 'bytes';
  const form = h(
    'form',
    {
      class: 'filters',
      id: 'query-form',
      onsubmit: (e: Event) => {
        e.preventDefault();
        ctx.navigate(href('query', '', { filter: filter.value.trim(), since: since.value.trim(), until: until.value.trim(), by: by.value, order: order.value }));
      },
    },
    filter,
    since,
    until,
    h('label', { class: 'muted' }, 'top by'),
    by,
    order,
    h('button', { type: 'submit', class: 'primary' }, 'Run'),
  );
  const info = h('p', { class: 'muted', id: 'query-info' });
  const topChart = h('div', { class: 'chart' });
  const topTable = h('div', { id: 'query-top' });
  const flows = h('div', { id: 'query-flows' });
  root.append(h('h1', null, 'Query'), form, info, h('div', { class: 'grid' }, h('div', { class: 'span-6' }, card('Top-N', topChart)), h('div', { class: 'span-6' }, card('Top-N table', topTable)), card('Flows (oldest first, first 200)', flows)));

  let done = false;
  return {
    interval: 30,
    async refresh() {
      if (done) return; // a query is a snapshot; Run again to refresh
      const params = { filter: p.get('filter') ?? '', since: p.get('since') ?? '1d', until: p.get('until') ?? undefined };
      const field = by.value;
      const [top, list] = await Promise.all([
        ctx.api.get<Top>('/api/v1/flows/top', { ...params, by: field, order: order.value, n: 20 }),
        ctx.api.get<{ flows: Flow[]; truncated: boolean; scan: { records_read: number; records_matched: number } }>('/api/v1/flows', { ...params, limit: 200 }),
      ]);
      done = true;
      info.dataset.flows = String(top.total.flows);
      replace(info, `${fmt.count(top.total.flows)} flows, ${fmt.bytes(top.total.bytes)} matched (${fmt.count(list.scan.records_read)} read)`, top.overflowed ? ' — too many groups: the top-N is incomplete' : '');
      const pal = palette();
      const key = (r: Record<string, unknown>) => String(r[field]);
      ctx.charts.set(
        topChart,
        base({
          grid: { left: 150, right: 24, top: 8, bottom: 24 },
          xAxis: { type: 'value', axisLabel: { formatter: (v: number) => (order.value === 'bytes' ? fmt.bytes(v) : fmt.count(v)) } },
          yAxis: { type: 'category', inverse: true, data: top.rows.map(key) },
          series: [{ type: 'bar', name: order.value, color: pal.accent, data: top.rows.map((r) => r[order.value as 'flows']) }],
        }),
      );
      replace(
        topTable,
        table(
          [
            { title: field, value: (r) => (ADDRESS_FIELDS.has(field) ? ip(ctx, key(r)) : key(r)) },
            { title: 'flows', value: (r) => fmt.count(r.flows), num: true },
            { title: 'packets', value: (r) => fmt.count(r.packets), num: true },
            { title: 'bytes', value: (r) => fmt.bytes(r.bytes), num: true },
          ],
          top.rows,
          'no flows match',
        ),
      );
      replace(flows, list.truncated ? h('p', { class: 'muted' }, 'more flows match: narrow the filter or the time range') : null, flowTable(ctx, list.flows));
    },
  };
};
