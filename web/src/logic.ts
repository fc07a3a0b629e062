// The dashboard's reasoning over API answers: routes, the flows behind an alert, the evidence
// charts' numbers, staleness. Pure functions (test/logic.test.ts).
import type { Alert, Flow, Lookup, StoredAlert } from './types';
import { severityRank } from './format';

// ---- routes: "#/page/arg?key=value", so every view is a link that can be shared ----

export interface Route {
  page: string;
  arg: string;
  params: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#\/?/, '');
  const q = h.indexOf('?');
  const path = q < 0 ? h : h.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
  const slash = path.indexOf('/');
  const page = (slash < 0 ? path : path.slice(0, slash)) || 'overview';
  const arg = slash < 0 ? '' : decodeURIComponent(path.slice(slash + 1));
  return { page, arg, params };
}

export function href(page: string, arg = '', params?: Record<string, string | number | undefined>): string {
  let h = `#/${page}`;
  if (arg) h += `/${encodeURIComponent(arg)}`;
  if (params) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') p.set(k, String(v));
    const s = p.toString();
    if (s) h += `?${s}`;
  }
  return h;
}

// ---- the flows behind an alert ----

const ADDRESS = /^[0-9a-fA-F.:]{2,45}$/;

export interface FlowQuery {
  filter: string; // the archive's filter language: `host A and host B and port P and proto N`
  since: string;
  until: string;
  hosts: string[];
  port?: number;
  proto?: number;
}

/** The archive query that finds an alert's flows: the addresses and service its detector
 * judged, over the alert's time span. A spray or an allow-list breach is about a service and
 * many sources, a horizontal scan about one source and many destinations, a segmentation,
 * egress, relay or anomaly alert about the internal host's traffic. */
export function alertFlowQuery(a: Alert): FlowQuery | null {
  const usable = (x: string) => (x && ADDRESS.test(x) && x !== '::' && x !== '0.0.0.0' ? x : '');
  let src = usable(a.src_ip);
  let dst = usable(a.dst_ip);
  let service = true;
  switch (a.detector) {
    case 'spray':
    case 'allowlist':
    case 'exposure':
      src = '';
      break;
    case 'scan':
      if (a.evidence?.kind === 'vertical') service = false;
      else dst = '';
      break;
    case 'segmentation':
    case 'egress':
    case 'relay':
    case 'anomaly':
      if (src) dst = '';
      service = false;
      break;
  }
  const hosts = [src, dst].filter(Boolean);
  if (hosts.length === 0) return null;
  const port = service && Number.isInteger(a.dst_port) && a.dst_port > 0 ? a.dst_port : undefined;
  const proto = service && Number.isInteger(a.proto) && a.proto > 0 ? a.proto : undefined;
  const terms = hosts.map((x) => `host ${x}`);
  if (port !== undefined) terms.push(`port ${port}`);
  if (proto !== undefined) terms.push(`proto ${proto}`);
  return { filter: terms.join(' and '), since: a.first_seen || a.ts, until: a.last_seen || a.ts, hosts, port, proto };
}

/** Whether a flow matches the query, as the archive's filter would (the offline report
 * narrows the flows it carries with it). */
export function matchesFlowQuery(q: FlowQuery, f: Flow): boolean {
  return (
    q.hosts.every((x) => f.src_ip === x || f.dst_ip === x) &&
    (q.port === undefined || f.src_port === q.port || f.dst_port === q.port) &&
    (q.proto === undefined || f.proto === q.proto) &&
    Date.parse(f.ts_end) >= Date.parse(q.since) &&
    Date.parse(f.ts_start) <= Date.parse(q.until)
  );
}

// ---- evidence ----

export interface Bin {
  from: number;
  to: number;
  count: number;
}

/** Connection starts (ms) of the initiator's flows; starts within `mergeMs` are one
 * connection (a biflow's two halves, a retransmitted SYN). */
export function connectionStarts(flows: Flow[], initiator: string, mergeMs = 1000): number[] {
  const starts = flows
    .filter((f) => !initiator || f.src_ip === initiator)
    .map((f) => Date.parse(f.ts_start))
    .filter((t) => Number.isFinite(t))
    .sort((a, b) => a - b);
  const out: number[] = [];
  for (const t of starts) if (out.length === 0 || t - out[out.length - 1] > mergeMs) out.push(t);
  return out;
}

/** Inter-arrival times in seconds of sorted starts (ms). */
export function interArrivals(starts: number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < starts.length; i++) out.push((starts[i] - starts[i - 1]) / 1000);
  return out;
}

/** A histogram of `values` in `bins` equal bins from 0 to 1.25 × the 99th percentile; the
 * last bin takes everything above, so one long pause does not squash the rest. */
export function histogram(values: number[], bins = 24): Bin[] {
  if (values.length === 0) return [];
  const sorted = [...values].sort((a, b) => a - b);
  const top = 1.25 * sorted[Math.floor((sorted.length - 1) * 0.99)];
  const width = Math.max(top, 1e-9) / bins;
  const out: Bin[] = Array.from({ length: bins }, (_, i) => ({ from: i * width, to: (i + 1) * width, count: 0 }));
  for (const v of sorted) out[Math.min(bins - 1, Math.max(0, Math.floor(v / width)))].count++;
  return out;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Distinct values of `key` per bucket of `stepMs` (flow start), buckets in time order. */
export function distinctPerBucket(flows: Flow[], key: (f: Flow) => string, stepMs: number): { t: number; n: number }[] {
  const buckets = new Map<number, Set<string>>();
  for (const f of flows) {
    const t = Date.parse(f.ts_start);
    if (!Number.isFinite(t)) continue;
    const b = Math.floor(t / stepMs) * stepMs;
    let set = buckets.get(b);
    if (!set) buckets.set(b, (set = new Set()));
    set.add(key(f));
  }
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([t, s]) => ({ t, n: s.size }));
}

/** A bucket width giving about `buckets` buckets over a span, from a fixed ladder. */
export function stepFor(spanMs: number, buckets = 48): number {
  const ladder = [60, 300, 600, 900, 1800, 3600, 10800, 21600, 86400].map((s) => s * 1000);
  for (const s of ladder) if (spanMs / s <= buckets) return s;
  return ladder[ladder.length - 1];
}

/** How many of the addresses fall in each AS type, and the ten largest ASes. */
export function asMix(lookups: Lookup[]): { types: Record<string, number>; ases: { asn: number; org: string; n: number }[] } {
  const types: Record<string, number> = {};
  const ases = new Map<number, { asn: number; org: string; n: number }>();
  for (const l of lookups) {
    const type = l.internal ? 'internal' : l.as_type || 'unknown';
    types[type] = (types[type] ?? 0) + 1;
    if (l.asn) {
      const e = ases.get(l.asn) ?? { asn: l.asn, org: l.as_org, n: 0 };
      e.n++;
      ases.set(l.asn, e);
    }
  }
  const top = [...ases.values()].sort((a, b) => b.n - a.n || a.asn - b.asn).slice(0, 10);
  return { types, ases: top };
}

// ---- freshness ----

export type Freshness = 'fresh' | 'stale' | 'old' | 'never';

/** A feed's age against its expected refresh: fresh within 2 intervals, stale within 8. */
export function freshness(ageSeconds: number | null | undefined, intervalSeconds = 3600): Freshness {
  if (ageSeconds === null || ageSeconds === undefined) return 'never';
  if (ageSeconds <= 2 * intervalSeconds) return 'fresh';
  if (ageSeconds <= 8 * intervalSeconds) return 'stale';
  return 'old';
}

// ---- alerts filtered like the API does (the offline report has no server) ----

export interface AlertFilter {
  detector?: string;
  severity?: string;
  status?: string;
  ip?: string;
  offset?: number;
  limit?: number;
}

export function filterAlerts(all: StoredAlert[], f: AlertFilter): StoredAlert[] {
  const min = f.severity ? severityRank(f.severity) : 0;
  const matched = all.filter(
    (a) =>
      (!f.detector || a.alert.detector === f.detector) &&
      severityRank(a.alert.severity) >= min &&
      (!f.status || a.status === f.status) &&
      (!f.ip || a.alert.src_ip === f.ip || a.alert.dst_ip === f.ip),
  );
  const offset = f.offset ?? 0;
  return matched.slice(offset, offset + (f.limit ?? 100));
}
