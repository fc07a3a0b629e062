// Numbers, sizes, times and protocol names as people read them. Pure functions (test/format.test.ts).

const SI = ['', 'k', 'M', 'G', 'T', 'P'];

/** 1234 -> "1.23 k", 999 -> "999"; integers below 1000 stay exact. */
export function count(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  if (v < 1000) return sign + (Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1));
  let i = 0;
  while (v >= 1000 && i < SI.length - 1) {
    v /= 1000;
    i++;
  }
  return `${sign}${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${SI[i]}`;
}

const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Bytes in binary units: 1536 -> "1.50 KiB". */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < IEC.length - 1) {
    v /= 1024;
    i++;
  }
  const text = i === 0 ? String(Math.round(v)) : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0);
  return `${n < 0 ? '-' : ''}${text} ${IEC[i]}`;
}

/** Seconds as the largest two units: 3725 -> "1 h 2 m", 42 -> "42 s". */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  let s = Math.max(0, Math.round(seconds));
  const units: [string, number][] = [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  for (const [name, size] of units) {
    if (s >= size || (name === 's' && parts.length === 0)) {
      parts.push(`${Math.floor(s / size)} ${name}`);
      s %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/** An RFC 3339 time as "2026-04-07 23:50:00" (UTC, as every time orbwatch writes). */
export function time(t: string | null | undefined): string {
  if (!t) return '–';
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)/.exec(t);
  return m ? `${m[1]} ${m[2]}` : t;
}

const PROTOCOLS: Record<number, string> = {
  1: 'icmp',
  6: 'tcp',
  17: 'udp',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  58: 'icmp6',
  132: 'sctp',
};

export function proto(p: number | null | undefined): string {
  if (p === null || p === undefined) return '–';
  return PROTOCOLS[p] ?? String(p);
}

/** "tcp/443"; a port of 0 (none) is the protocol alone. */
export function service(p: number, port: number): string {
  return port ? `${proto(p)}/${port}` : proto(p);
}

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: string): number {
  return SEVERITIES.indexOf(s as Severity);
}

/** Escapes text for the few places that take HTML (chart tooltips). */
export function escapeHtml(s: unknown): string {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
