// Overview: traffic and alerts over the last week of event time, the top talkers, exporter
// health and feed freshness.
import * as fmt from '../format';
import { ReportSource } from '../api';
import { base, palette } from '../charts';
import { card, h, replace, table, tile } from '../dom';
import { freshness, href } from '../logic';
import { ageSeconds, ip, type PageFactory } from '../page';
import type { AlertSummary, Exporters, Feed, Health, Inventory, Series, Top } from '../types';

export const overviewPage: PageFactory = (root, ctx) => {
  const tiles = h('div', { class: 'tiles', id: 'tiles' });
  const traffic = h('div', { class: 'chart', id: 'chart-traffic' });
  const alerts = h('div', { class: 'chart', id: 'chart-alerts' });
  const topSrc = h('div', { id: 'top-src' });
  const topDst = h('div', { id: 'top-dst' });
  const exporters = h('div', { id: 'exporters' });
  const feeds = h('div', { id: 'feed-freshness' });
  const problems = h('div');
  root.append(
    h('h1', null, ctx.api.offline ? ctx.api.title : 'Overview'),
    ctx.api.offline && ctx.api instanceof ReportSource
      ? h('p', { class: 'muted', id: 'report-about' }, `Analysis of ${ctx.api.data.inputs.join(', ') || 'a live capture'}, written ${fmt.time(ctx.api.data.generated)} UTC by orbwatch analyze --report. Every page works without a network.`)
      : '',
    problems,
    tiles,
    h(
      'div',
      { class: 'grid mt' },
      card('Flows and bytes per second', traffic),
      card('Alerts by severity', alerts),
      h('div', { class: 'span-6' }, card(`Top sources (bytes${ctx.api.offline ? '' : ', last day'})`, topSrc)),
      h('div', { class: 'span-6' }, card(`Top destinations (bytes${ctx.api.offline ? '' : ', last day'})`, topDst)),
      h('div', { class: 'span-8' }, card('Exporters', exporters)),
      h('div', { class: 'span-4' }, card('Threat feeds', feeds)),
    ),
  );

  const topTable = (t: Top, field: string) =>
    table(
      [
        { title: field === 'src_ip' ? 'source' : 'destination', value: (r) => ip(ctx, String(r[field])) },
        { title: 'flows', value: (r) => fmt.count(r.flows), num: true },
        { title: 'bytes', value: (r) => fmt.bytes(r.bytes), num: true },
        { title: 'share', value: (r) => `${((100 * r.bytes) / Math.max(1, t.total.bytes)).toFixed(1)}%`, num: true },
      ],
      t.rows,
      'no flows in the last day',
    );

  const SCAN_EVERY_MS = 60_000;
  let scans: { at: number; series: Series; src: Top; dst: Top } | null = null;

  return {
    interval: 10,
    async refresh() {
      const health = await ctx.api.get<Health>('/api/v1/health');
      const newest = health.newest_flow ? Date.parse(health.newest_flow) : Date.now();
      const since = new Date(newest - 7 * 86400e3).toISOString();
      const until = new Date(newest + 1000).toISOString();
      // The archive scans (a week of buckets, a day's top talkers) at most once a minute: on a
      // large archive they cost the daemon far more than the counters.
      const heavy =
        scans && Date.now() - scans.at < SCAN_EVERY_MS
          ? Promise.resolve(scans)
          : Promise.all([
              ctx.api.get<Series>('/api/v1/series', { since, until }),
              ctx.api.get<Top>('/api/v1/flows/top', { by: 'src_ip', order: 'bytes', n: 10, since: '1d' }),
              ctx.api.get<Top>('/api/v1/flows/top', { by: 'dst_ip', order: 'bytes', n: 10, since: '1d' }),
            ]).then(([series, src, dst]) => (scans = { at: Date.now(), series, src, dst }));
      const [{ series, src, dst }, summary, exp, feedList, inv] = await Promise.all([
        heavy,
        ctx.api.get<AlertSummary>('/api/v1/alerts/summary', { since, until }),
        ctx.api.get<Exporters>('/api/v1/exporters'),
        ctx.api.get<{ feeds: Feed[] }>('/api/v1/feeds'),
        ctx.api.get<Inventory>('/api/v1/inventory'),
      ]);
      const open = summary.by_status.new ?? 0;
      const tileTitle = ctx.api.offline ? 'alerts' : 'alerts (7 days)';
      const severe = (summary.by_severity.high ?? 0) + (summary.by_severity.critical ?? 0);
      const staleFeeds = feedList.feeds.filter((f) => freshness(f.age_s ?? null) !== 'fresh').length;
      // The newest bucket is still filling: the rate of the one before it.
      const filled = series.buckets.filter((b) => b.flows > 0);
      const lastBucket = filled.length > 1 ? filled[filled.length - 2] : filled[0];
      replace(
        tiles,
        tile('flows archived', h('span', { 'data-value': health.flows_archived }, fmt.count(health.flows_archived)), `${fmt.count(health.records)} records decoded`),
        tile('flows/s', fmt.count(lastBucket ? lastBucket.flows / series.step_s : 0), `last ${fmt.duration(series.step_s)} of event time`),
 tile(tileTitle, h('a', { href: href('alerts'), 'data-value': summary.total }, fmt.count(summary.total)), `${fmt.count(open)} new · ${fmt.count(severe)} high or critical`, severe > 0 ? 'bad' : ''),
        tile('edge devices', h('a', { href: href('edge'), 'data-value': inv.devices.length }, String(inv.devices.length)), `${inv.devices.reduce((n, d) => n + d.services.length, 0)} exposed services`),
        tile('exporters', String(exp.exporters_total), `${fmt.count(exp.sequence_lost)} lost · ${fmt.count(exp.decode_errors)} decode errors`, exp.sequence_lost + exp.socket_drops > 0 ? 'warn' : ''),
        tile('feeds', String(feedList.feeds.length), staleFeeds ? `${staleFeeds} not fresh` : 'all fresh', staleFeeds ? 'warn' : ''),
        tile('status', health.status, ctx.api.offline ? `${health.problems.length} problems reading the input` : `${fmt.duration(health.uptime_s)} up`, health.status === 'ok' ? '' : 'bad'),
      );
      replace(problems, health.problems.length ? h('div', { class: 'card error' }, h('h2', null, 'Problems'), h('ul', null, health.problems.map((p) => h('li', null, p)))) : null);

      const p = palette();
      const times = series.buckets.map((b) => Date.parse(b.t));
      ctx.charts.set(
        traffic,
        base({
          legend: { data: ['flows/s', 'bytes/s'], textStyle: { color: p.muted } },
          xAxis: { type: 'time' },
          yAxis: [
            { type: 'value', name: 'flows/s', axisLabel: { formatter: (v: number) => fmt.count(v) } },
            { type: 'value', name: 'bytes/s', axisLabel: { formatter: (v: number) => fmt.bytes(v) }, splitLine: { show: false } },
          ],
          series: [
            { name: 'flows/s', type: 'line', showSymbol: false, color: p.accent, data: series.buckets.map((b, i) => [times[i], b.flows / series.step_s]) },
            { name: 'bytes/s', type: 'line', showSymbol: false, yAxisIndex: 1, color: p.accent2, data: series.buckets.map((b, i) => [times[i], b.bytes / series.step_s]) },
          ],
        }),
      );
      ctx.charts.set(
        alerts,
        base({
          legend: { data: fmt.SEVERITIES.slice(), textStyle: { color: p.muted } },
          xAxis: { type: 'time', min: Date.parse(series.from ?? since), max: Date.parse(series.until ?? until) },
          yAxis: { type: 'value', minInterval: 1 },
          series: fmt.SEVERITIES.map((s) => ({
            name: s,
            type: 'bar',
            stack: 'sev',
            color: p[s],
            barMaxWidth: 24,
            data: summary.buckets.map((b) => [Date.parse(b.t) + (summary.step_s * 1000) / 2, Number(b[s] ?? 0)]),
          })),
        }),
      );
      replace(topSrc, topTable(src, 'src_ip'));
      replace(topDst, topTable(dst, 'dst_ip'));
      replace(
        exporters,
        h('p', { class: 'muted' }, `socket drops ${fmt.count(exp.socket_drops)} · refused ${fmt.count(exp.receive_drops)} · decode errors ${fmt.count(exp.decode_errors)} · sequence loss ${fmt.count(exp.sequence_lost)}`),
        table(
          [
            { title: 'exporter', value: (e) => h('span', { class: 'ip' }, e.ip) },
            { title: 'version', value: (e) => e.version },
            { title: 'records', value: (e) => fmt.count(e.records), num: true },
            { title: 'datagrams', value: (e) => fmt.count(e.datagrams), num: true },
            { title: 'lost (gaps)', value: (e) => h('span', { class: e.sequence_lost ? 'sev-high' : '' }, fmt.count(e.sequence_lost)), num: true },
            { title: 'errors', value: (e) => h('span', { class: e.decode_errors ? 'sev-high' : '' }, fmt.count(e.decode_errors)), num: true },
            { title: 'templates', value: (e) => String(e.templates), num: true },
            { title: 'last datagram', value: (e) => `${fmt.duration(ageSeconds(e.last_seen))} ago` },
          ],
          exp.exporters,
          'no exporter has sent anything yet',
        ),
      );
      replace(
        feeds,
        table(
          [
            { title: 'feed', value: (f) => h('a', { href: href('feeds') }, f.name) },
            { title: 'entries', value: (f) => fmt.count(f.entries), num: true },
            { title: 'age', value: (f) => h('span', { class: `badge ${freshness(f.age_s ?? null)}` }, f.age_s === undefined ? 'never' : fmt.duration(f.age_s)) },
          ],
          feedList.feeds,
          'no feeds configured',
        ),
      );
    },
  };
};
