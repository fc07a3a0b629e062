// One alert: what it says, its evidence as numbers and charts (a beacon's inter-arrival
// histogram, a spray's sources over time and their AS mix, a conversation's volume), the
// flows behind it, and the analyst's acknowledgement.
import * as fmt from '../format';
import { base, palette } from '../charts';
import { card, h, replace, table, type Child } from '../dom';
import { alertFlowQuery, asMix, connectionStarts, distinctPerBucket, histogram, href, interArrivals, median, stepFor } from '../logic';
import { ip, severity, type Ctx, type PageFactory } from '../page';
import type { Alert, Flow, StoredAlert } from '../types';

const FLOW_LIMIT = 5000;

function evidenceValue(ctx: Ctx, key: string, v: unknown): Child {
  if (key === 'source_sample' || key.endsWith('_list')) {
    const addrs = String(v ?? '').split(',').filter(Boolean);
    return h('span', null, addrs.map((a, i) => [i ? ', ' : '', ip(ctx, a.trim())]));
  }
  if (typeof v === 'number') return Number.isInteger(v) ? fmt.count(v) : v.toFixed(3);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export const alertPage: PageFactory = (root, ctx) => {
  const id = ctx.route.arg;
  const head = h('div');
  const actions = h('div', { class: 'filters' });
  const facts = h('div');
  const evidence = h('div');
  const chartsBox = h('div', { class: 'grid' });
  const flowsBox = h('div', { id: 'alert-flows' });
  root.append(head, actions, h('div', { class: 'grid' }, h('div', { class: 'span-6' }, card('The alert', facts)), h('div', { class: 'span-6' }, card('Evidence', evidence))), h('div', { class: 'mt' }, chartsBox), h('div', { class: 'mt' }, card('Flows behind this alert', flowsBox)));

  let drawnFor = '';
  const note = h('input', { placeholder: 'note (ticket, reason)', 'aria-label': 'note', class: 'wide' });

  async function setStatus(action: string) {
    await ctx.api.post(`/api/v1/alerts/${id}/${action}`, { note: note.value });
    note.value = '';
    await page.refresh();
  }

  async function drawEvidence(a: Alert) {
    const flowsAnswer = await ctx.api.alertFlows(a, FLOW_LIMIT);
    const flows = flowsAnswer.flows;
    const q = alertFlowQuery(a);
    const p = palette();
    replace(chartsBox);
    // Each chart's box is in the page before ECharts measures it.
    const chart = (title: string, span = 'span-6') => {
      const el = h('div', { class: 'chart' });
      chartsBox.append(h('div', { class: span }, card(title, el)));
      return el;
    };
    const span = Math.max(60e3, Date.parse(a.last_seen) - Date.parse(a.first_seen));
    const step = stepFor(span);
    if (a.detector === 'beacon') {
      const starts = connectionStarts(flows, a.src_ip);
      const gaps = interArrivals(starts);
      const bins = histogram(gaps);
      const el = chart(`Time between connections (${gaps.length} gaps, median ${fmt.duration(median(gaps))})`);
      ctx.charts.set(
        el,
        base({
          tooltip: { trigger: 'axis' },
          xAxis: { type: 'category', name: 'seconds', data: bins.map((b) => `${Math.round(b.from)}–${Math.round(b.to)}`) },
          yAxis: { type: 'value', minInterval: 1 },
          series: [{ type: 'bar', name: 'connections', color: p.accent, data: bins.map((b) => b.count) }],
        }),
      );
      const perBucket = new Map<number, number>();
      for (const t of starts) perBucket.set(Math.floor(t / step) * step, (perBucket.get(Math.floor(t / step) * step) ?? 0) + 1);
      const el2 = chart('Connections over time');
      ctx.charts.set(el2, base({ xAxis: { type: 'time' }, yAxis: { type: 'value', minInterval: 1 }, series: [{ type: 'bar', name: 'connections', color: p.accent2, data: [...perBucket.entries()] }] }));
    } else if (a.detector === 'spray') {
      const inbound = flows.filter((f) => f.dst_ip === a.dst_ip);
      const el = chart('Distinct sources over time');
      ctx.charts.set(
        el,
        base({
          xAxis: { type: 'time' },
          yAxis: { type: 'value', minInterval: 1 },
          series: [{ type: 'bar', name: 'sources', color: p.accent, data: distinctPerBucket(inbound, (f) => f.src_ip, step).map((b) => [b.t, b.n]) }],
        }),
      );
      const sources = [...new Set(inbound.map((f) => f.src_ip))].slice(0, 1000);
      const lookups = await ctx.api.lookup(sources);
      const mix = asMix(lookups);
      const pie = chart(`Sources by network type (${lookups.length} sources)`, 'span-6');
      ctx.charts.set(pie, {
        animation: false,
        tooltip: { trigger: 'item' },
        legend: { textStyle: { color: p.muted }, top: 0 },
        series: [{ type: 'pie', radius: ['35%', '65%'], top: 24, label: { color: p.fg }, data: Object.entries(mix.types).map(([name, value]) => ({ name, value, itemStyle: { color: p[name] ?? p.unknown } })) }],
      });
      const asBar = chart('Largest source ASes', 'span-6');
      ctx.charts.set(
        asBar,
        base({
          grid: { left: 160, right: 24, top: 8, bottom: 24 },
          tooltip: { trigger: 'axis' },
          xAxis: { type: 'value', minInterval: 1 },
          yAxis: { type: 'category', inverse: true, data: mix.ases.map((x) => `AS${x.asn} ${x.org}`.slice(0, 28)) },
          series: [{ type: 'bar', name: 'sources', color: p.residential, data: mix.ases.map((x) => x.n) }],
        }),
      );
    }
    if (flows.length) {
      const perBucket = new Map<number, number>();
      for (const f of flows) {
        const b = Math.floor(Date.parse(f.ts_start) / step) * step;
        perBucket.set(b, (perBucket.get(b) ?? 0) + f.bytes);
      }
      const el = chart('Bytes of these flows over time', chartsBox.childElementCount % 2 ? 'span-6' : 'span-12');
      ctx.charts.set(el, base({ xAxis: { type: 'time' }, yAxis: { type: 'value', axisLabel: { formatter: (v: number) => fmt.bytes(v) } }, series: [{ type: 'bar', name: 'bytes', color: p.accent, data: [...perBucket.entries()] }] }));
    }
    replace(
      flowsBox,
      h(
        'p',
        { class: 'muted' },
        h('span', { id: 'alert-flow-count', 'data-value': flows.length }, `${fmt.count(flows.length)}${flowsAnswer.truncated ? '+' : ''} flows`),
        q ? [' matching ', h('code', { id: 'alert-filter' }, q.filter), ` from ${fmt.time(q.since)} to ${fmt.time(q.until)}`] : ' (the alert names no addresses)',
        q && !ctx.api.offline ? [' · ', h('a', { href: href('query', '', { filter: q.filter, since: q.since, until: q.until }), id: 'open-in-query' }, 'open in Query')] : null,
      ),
      flowTable(ctx, flows.slice(0, 200)),
    );
  }

  const page = {
    async refresh() {
      const s = await ctx.api.get<StoredAlert>(`/api/v1/alerts/${id}`);
      const a = s.alert;
      replace(head, h('h1', null, severity(a.severity), ' ', a.detector, ': ', a.summary));
      replace(
        actions,
        ctx.api.offline
          ? h('span', { class: 'muted' }, `status: ${s.status}${s.note ? ` — ${s.note}` : ''}`)
          : [
              h('span', { class: `badge ${s.status === 'new' ? 'sev-medium' : 'ok'}`, id: 'alert-status' }, s.status),
              s.note ? h('span', { class: 'muted', id: 'alert-note' }, s.note) : null,
              note,
              s.status !== 'ack' ? h('button', { type: 'button', id: 'ack', onclick: () => void setStatus('ack') }, 'Acknowledge') : null,
              s.status !== 'closed' ? h('button', { type: 'button', onclick: () => void setStatus('close') }, 'Close (not this)') : null,
              s.status !== 'new' ? h('button', { type: 'button', onclick: () => void setStatus('reopen') }, 'Reopen') : null,
            ],
      );
      replace(
        facts,
        h(
          'dl',
          { class: 'kv' },
          [
            ['id', h('code', null, a.id)],
            ['raised', fmt.time(a.ts)],
            ['first / last flow', `${fmt.time(a.first_seen)} → ${fmt.time(a.last_seen)}`],
            ['flows', fmt.count(a.count)],
            ['source', ip(ctx, a.src_ip)],
            ['destination', ip(ctx, a.dst_ip)],
            ['service', a.dst_port || a.proto ? fmt.service(a.proto, a.dst_port) : '–'],
            ['asset', a.asset || '–'],
            ['indicator', a.indicator ? `${a.indicator.value} (feed ${a.indicator.feed}${a.indicator.tags?.length ? `; ${a.indicator.tags.join(', ')}` : ''})` : '–'],
            ['origin', a.retro ? 'retro-hunt over the archive' : 'live detection'],
          ].map(([k, v]) => [h('dt', null, k as string), h('dd', null, v as Child)]),
        ),
      );
      replace(evidence, h('dl', { class: 'kv', id: 'evidence' }, Object.entries(a.evidence ?? {}).map(([k, v]) => [h('dt', null, k), h('dd', null, evidenceValue(ctx, k, v))])));
      // The flows behind it change only when the alert grows.
      const version = `${a.count}/${a.last_seen}`;
      if (version !== drawnFor) {
        drawnFor = version;
        await drawEvidence(a);
      }
    },
  };
  return page;
};

export function flowTable(ctx: Ctx, flows: Flow[]): HTMLElement {
  return table(
    [
      { title: 'start', value: (f) => fmt.time(f.ts_start), cls: 'nowrap' },
      { title: 'duration', value: (f) => fmt.duration((Date.parse(f.ts_end) - Date.parse(f.ts_start)) / 1000), num: true },
      { title: 'source', value: (f) => [ip(ctx, f.src_ip), f.src_port ? `:${f.src_port}` : ''] },
      { title: 'destination', value: (f) => [ip(ctx, f.dst_ip), f.dst_port ? `:${f.dst_port}` : ''] },
      { title: 'proto', value: (f) => fmt.proto(f.proto) },
      { title: 'packets', value: (f) => fmt.count(f.packets), num: true },
      { title: 'bytes', value: (f) => fmt.bytes(f.bytes), num: true },
      { title: 'exporter', value: (f) => f.exporter },
      { title: 'name', value: (f) => f.server_name ?? '' },
    ],
    flows,
    'no flows (outside the archive\u2019s retention, or the alert came from elsewhere)',
  );
}
