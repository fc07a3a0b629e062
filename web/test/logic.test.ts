import { describe, expect, it } from 'vitest';
import * as logic from '../src/logic';
import type { Alert, Flow, Lookup, StoredAlert } from '../src/types';

function alert(over: Partial<Alert>): Alert {
  return {
    ts: '2026-04-07T12:00:00.000Z',
    id: 'a1',
    detector: 'beacon',
    severity: 'high',
    summary: 's',
    src_ip: '10.0.0.5',
    dst_ip: '203.0.113.9',
    dst_port: 443,
    proto: 6,
    first_seen: '2026-04-07T00:00:00.000Z',
    last_seen: '2026-04-07T12:00:00.000Z',
    count: 10,
    ...over,
  };
}

function flow(start: string, src = '10.0.0.5', dst = '203.0.113.9'): Flow {
  return { ts_start: start, ts_end: start, src_ip: src, dst_ip: dst, src_port: 40000, dst_port: 443, proto: 6, tcp_flags: 0, bytes: 100, packets: 1, exporter: '192.0.2.1', src_as: 0, dst_as: 0 };
}

describe('routes', () => {
  it('parses page, argument and parameters', () => {
    const r = logic.parseRoute('#/alerts/75714be12eac08e3?status=new');
    expect(r.page).toBe('alerts');
    expect(r.arg).toBe('75714be12eac08e3');
    expect(r.params.get('status')).toBe('new');
    expect(logic.parseRoute('').page).toBe('overview');
    expect(logic.parseRoute('#/host/2001%3Adb8%3A%3A1').arg).toBe('2001:db8::1');
  });
  it('writes shareable links that read back the same', () => {
    const h = logic.href('query', '', { filter: 'dst port 22 and not src net 10.0.0.0/8', since: '1d', until: '' });
    expect(h).toBe('#/query?filter=dst+port+22+and+not+src+net+10.0.0.0%2F8&since=1d');
    const r = logic.parseRoute(h);
    expect(r.params.get('filter')).toBe('dst port 22 and not src net 10.0.0.0/8');
    expect(r.params.has('until')).toBe(false);
  });
});

describe('the flows behind an alert', () => {
  it('names both addresses, the service and the alert\u2019s span', () => {
    expect(logic.alertFlowQuery(alert({}))).toEqual({ filter: 'host 10.0.0.5 and host 203.0.113.9 and port 443 and proto 6', since: '2026-04-07T00:00:00.000Z', until: '2026-04-07T12:00:00.000Z', hosts: ['10.0.0.5', '203.0.113.9'], port: 443, proto: 6 });
  });
  it('follows what each detector judged', () => {
    // A spray: the service and every source, not the one source that crossed the threshold.
    expect(logic.alertFlowQuery(alert({ detector: 'spray' }))?.filter).toBe('host 203.0.113.9 and port 443 and proto 6');
    expect(logic.alertFlowQuery(alert({ detector: 'scan', evidence: { kind: 'horizontal' } }))?.filter).toBe('host 10.0.0.5 and port 443 and proto 6');
    expect(logic.alertFlowQuery(alert({ detector: 'scan', evidence: { kind: 'vertical' } }))?.filter).toBe('host 10.0.0.5 and host 203.0.113.9');
    expect(logic.alertFlowQuery(alert({ detector: 'segmentation' }))?.filter).toBe('host 10.0.0.5');
    expect(logic.alertFlowQuery(alert({ detector: 'intel', src_ip: '::' }))?.filter).toBe('host 203.0.113.9 and port 443 and proto 6');
    expect(logic.alertFlowQuery(alert({ src_ip: '', dst_ip: '', dst_port: 0 }))).toBeNull();
  });
  it('never pastes text that is not an address into the filter', () => {
    expect(logic.alertFlowQuery(alert({ src_ip: '10.0.0.1 or any', dst_ip: '' }))).toBeNull();
  });
});

describe('the report narrows its flows as the archive would', () => {
  it('matches hosts, port, protocol and the span', () => {
    const q = logic.alertFlowQuery(alert({}))!;
    expect(logic.matchesFlowQuery(q, flow('2026-04-07T01:00:00Z'))).toBe(true);
    expect(logic.matchesFlowQuery(q, flow('2026-04-07T01:00:00Z', '203.0.113.9', '10.0.0.5'))).toBe(true);
    expect(logic.matchesFlowQuery(q, flow('2026-04-07T01:00:00Z', '10.0.0.5', '198.51.100.1'))).toBe(false);
    expect(logic.matchesFlowQuery(q, { ...flow('2026-04-07T01:00:00Z'), dst_port: 80, src_port: 5000 })).toBe(false);
    expect(logic.matchesFlowQuery(q, { ...flow('2026-04-07T01:00:00Z'), proto: 17 })).toBe(false);
    expect(logic.matchesFlowQuery(q, flow('2026-04-08T01:00:00Z'))).toBe(false);
    const spray = logic.alertFlowQuery(alert({ detector: 'spray' }))!;
    expect(logic.matchesFlowQuery(spray, flow('2026-04-07T01:00:00Z', '198.51.100.7', '203.0.113.9'))).toBe(true);
  });
});

describe('beacon evidence', () => {
  it('merges a connection\u2019s halves and measures the gaps', () => {
    const flows = [flow('2026-04-07T00:00:00.000Z'), flow('2026-04-07T00:00:00.400Z'), flow('2026-04-07T00:05:00.000Z'), flow('2026-04-07T00:10:00.000Z'), flow('2026-04-07T00:07:00.000Z', '203.0.113.9', '10.0.0.5')];
    const starts = logic.connectionStarts(flows, '10.0.0.5');
    expect(starts.length).toBe(3);
    expect(logic.interArrivals(starts)).toEqual([300, 300]);
    expect(logic.median([300, 100, 200])).toBe(200);
    expect(logic.median([])).toBeNaN();
  });
  it('bins gaps up to the 99th percentile, the rest in the last bin', () => {
    const values = [...Array(99).fill(300), 100000];
    const bins = logic.histogram(values, 10);
    expect(bins.length).toBe(10);
    expect(bins.reduce((n, b) => n + b.count, 0)).toBe(100);
    expect(bins[8].count).toBe(99); // one regular beacon, away from the edge
    expect(bins[9].count).toBe(1); // the long pause, on top
    expect(bins[0].from).toBe(0);
    expect(logic.histogram([])).toEqual([]);
    const spread = logic.histogram([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5);
    expect(spread.map((b) => b.count)).toEqual([2, 2, 2, 2, 2]);
  });
});

describe('spray evidence', () => {
  it('counts distinct sources per bucket', () => {
    const flows = [flow('2026-04-07T00:10:00Z', '198.51.100.1'), flow('2026-04-07T00:20:00Z', '198.51.100.1'), flow('2026-04-07T00:30:00Z', '198.51.100.2'), flow('2026-04-07T01:10:00Z', '198.51.100.3')];
    expect(logic.distinctPerBucket(flows, (f) => f.src_ip, 3600e3).map((b) => b.n)).toEqual([2, 1]);
  });
  it('mixes AS types and ranks ASes', () => {
    const l = (asn: number, type: string, internal = false): Lookup => ({ ip: 'x', internal, zone: '', asset: '', asn, as_org: `org${asn}`, as_type: type, country: '' });
    const mix = logic.asMix([l(1, 'residential'), l(1, 'residential'), l(2, 'hosting'), l(0, 'unknown'), l(0, 'unknown', true)]);
    expect(mix.types).toEqual({ residential: 2, hosting: 1, unknown: 1, internal: 1 });
    expect(mix.ases[0]).toEqual({ asn: 1, org: 'org1', n: 2 });
    expect(mix.ases.length).toBe(2);
  });
  it('picks bucket widths from a fixed ladder', () => {
    expect(logic.stepFor(3600e3)).toBe(300e3);
    expect(logic.stepFor(7 * 86400e3)).toBe(21600e3);
    expect(logic.stepFor(365 * 86400e3)).toBe(86400e3);
  });
});

describe('feeds and the offline report', () => {
  it('judges a feed\u2019s freshness by its interval', () => {
    expect(logic.freshness(600)).toBe('fresh');
    expect(logic.freshness(5 * 3600)).toBe('stale');
    expect(logic.freshness(86400)).toBe('old');
    expect(logic.freshness(undefined)).toBe('never');
  });
  it('filters and pages alerts as the API does', () => {
    const s = (id: string, detector: string, severity: string, status = 'new'): StoredAlert => ({ status, note: '', alert: alert({ id, detector, severity }) });
    const all = [s('1', 'intel', 'critical'), s('2', 'beacon', 'medium', 'ack'), s('3', 'intel', 'low'), s('4', 'spray', 'high')];
    expect(logic.filterAlerts(all, { detector: 'intel' }).map((a) => a.alert.id)).toEqual(['1', '3']);
    expect(logic.filterAlerts(all, { severity: 'high' }).map((a) => a.alert.id)).toEqual(['1', '4']);
    expect(logic.filterAlerts(all, { status: 'ack' }).map((a) => a.alert.id)).toEqual(['2']);
    expect(logic.filterAlerts(all, { ip: '10.0.0.5', offset: 1, limit: 2 }).map((a) => a.alert.id)).toEqual(['2', '3']);
    expect(logic.filterAlerts(all, { ip: '10.9.9.9' })).toEqual([]);
  });
});
