// One host: hourly traffic, its peers and services, the last day against the week before
// (hour of day by hour of day), what the model and AS data say of it, its alerts.
import * as fmt from '../format';
import { base, palette } from '../charts';
import { card, h, replace, table } from '../dom';
import { href } from '../logic';
import { ip, severity, type PageFactory } from '../page';
import type { HostView } from '../types';

export const hostPage: PageFactory = (root, ctx) => {
  const addr = ctx.route.arg;
  const about = h('p', { class: 'summary' });
  const timeline = h('div', { class: 'chart', id: 'host-timeline' });
  const baseline = h('div', { class: 'chart', id: 'host-baseline' });
  const peers = h('div', { id: 'host-peers' });
  const ports = h('div');
  const alerts = h('div', { id: 'host-alerts' });
  root.append(
    h('h1', null, 'Host ', h('span', { class: 'ip' }, addr)),
    about,
    h('div', { class: 'grid' }, card('Traffic per hour', timeline), h('div', { class: 'span-6' }, card('Last day against the week before (bytes per hour of day)', baseline)), h('div', { class: 'span-6' }, card('Alerts naming it', alerts)), h('div', { class: 'span-6' }, card('Peers (bytes)', peers)), h('div', { class: 'span-6' }, card('Services of its conversations', ports))),
  );
  return {
    interval: 60, // an archive scan of the host's 8 days
    async refresh() {
      const [v, look] = await Promise.all([ctx.api.get<HostView>(`/api/v1/hosts/${encodeURIComponent(addr)}`), ctx.api.lookup([addr])]);
      const l = look[0];
      const total = v.timeline.reduce((n, x) => n + x.flows, 0);
      replace(
        about,
        l?.internal ? 'Internal' : 'External',
        l?.zone ? `, zone ${l.zone}` : '',
        l?.asset ? `, asset ${l.asset}` : '',
        l?.asn ? `, AS${l.asn} ${l.as_org} (${l.as_type}${l.country ? `, ${l.country}` : ''})` : '',
        `. ${fmt.count(total)} flows with ${fmt.count(v.distinct_peers)} peers in the archive's last 8 days. `,
        h('a', { href: href('query', '', { filter: `host ${v.ip}` }) }, 'its flows'),
      );
      const p = palette();
      const hours = v.timeline.map((x) => Date.parse(x.hour));
      ctx.charts.set(
        timeline,
        base({
          legend: { data: ['bytes out', 'bytes in', 'flows'], textStyle: { color: p.muted } },
          xAxis: { type: 'time' },
          yAxis: [{ type: 'value', axisLabel: { formatter: (x: number) => fmt.bytes(x) } }, { type: 'value', splitLine: { show: false }, axisLabel: { formatter: (x: number) => fmt.count(x) } }],
          series: [
            { name: 'bytes out', type: 'bar', stack: 'b', color: p.accent2, data: v.timeline.map((x, i) => [hours[i], x.bytes_out]) },
            { name: 'bytes in', type: 'bar', stack: 'b', color: p.accent, data: v.timeline.map((x, i) => [hours[i], x.bytes_in]) },
            { name: 'flows', type: 'line', yAxisIndex: 1, showSymbol: false, color: p.muted, data: v.timeline.map((x, i) => [hours[i], x.flows]) },
          ],
        }),
      );
      ctx.charts.set(
        baseline,
        base({
          legend: { data: ['week before (mean)', 'last day'], textStyle: { color: p.muted } },
          xAxis: { type: 'category', data: v.baseline_vs_now.map((x) => `${x.hour_of_day}h`) },
          yAxis: { type: 'value', axisLabel: { formatter: (x: number) => fmt.bytes(x) } },
          series: [
            { name: 'week before (mean)', type: 'bar', color: p.muted, data: v.baseline_vs_now.map((x) => x.baseline_bytes) },
            { name: 'last day', type: 'bar', color: p.accent2, data: v.baseline_vs_now.map((x) => x.bytes) },
          ],
        }),
      );
      replace(
        peers,
        table(
          [
            { title: 'peer', value: (x) => ip(ctx, x.ip) },
            { title: 'flows', value: (x) => fmt.count(x.flows), num: true },
            { title: 'bytes', value: (x) => fmt.bytes(x.bytes), num: true },
            { title: '', value: (x) => h('a', { href: href('query', '', { filter: `host ${v.ip} and host ${x.ip}` }) }, 'flows') },
          ],
          v.peers,
          'no peers in the archive',
        ),
      );
      replace(ports, table([{ title: 'service', value: (x) => fmt.service(x.proto, x.port) }, { title: 'flows', value: (x) => fmt.count(x.flows), num: true }], v.ports, 'none'));
      replace(
        alerts,
        table(
          [
            { title: 'time', value: (a) => fmt.time(a.ts) },
            { title: 'severity', value: (a) => severity(a.severity) },
            { title: 'summary', value: (a) => h('a', { href: href('alerts', a.id) }, a.summary) },
          ],
          v.alerts,
          'no alerts name it',
        ),
      );
    },
  };
};
