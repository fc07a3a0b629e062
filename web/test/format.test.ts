import { describe, expect, it } from 'vitest';
import * as fmt from '../src/format';

describe('format', () => {
  it('counts with SI prefixes and keeps small integers exact', () => {
    expect(fmt.count(0)).toBe('0');
    expect(fmt.count(999)).toBe('999');
    expect(fmt.count(1234)).toBe('1.23 k');
    expect(fmt.count(45_600)).toBe('45.6 k');
    expect(fmt.count(3_450_000)).toBe('3.45 M');
    expect(fmt.count(-2500)).toBe('-2.50 k');
    expect(fmt.count(2.5)).toBe('2.50');
    expect(fmt.count(null)).toBe('–');
    expect(fmt.count(NaN)).toBe('–');
  });
  it('writes bytes in binary units', () => {
    expect(fmt.bytes(512)).toBe('512 B');
    expect(fmt.bytes(1536)).toBe('1.50 KiB');
    expect(fmt.bytes(200 * 1024 * 1024)).toBe('200 MiB');
    expect(fmt.bytes(undefined)).toBe('–');
  });
  it('writes durations as the two largest units', () => {
    expect(fmt.duration(42)).toBe('42 s');
    expect(fmt.duration(3725)).toBe('1 h 2 m');
    expect(fmt.duration(90061)).toBe('1 d 1 h');
    expect(fmt.duration(0)).toBe('0 s');
    expect(fmt.duration(null)).toBe('–');
  });
  it('shows RFC 3339 times as UTC date and time', () => {
    expect(fmt.time('2026-04-07T23:50:00.739Z')).toBe('2026-04-07 23:50:00');
    expect(fmt.time(null)).toBe('–');
    expect(fmt.time('garbage')).toBe('garbage');
  });
  it('names protocols and services', () => {
    expect(fmt.proto(6)).toBe('tcp');
    expect(fmt.proto(58)).toBe('icmp6');
    expect(fmt.proto(99)).toBe('99');
    expect(fmt.service(17, 500)).toBe('udp/500');
    expect(fmt.service(1, 0)).toBe('icmp');
  });
  it('ranks severities', () => {
    expect(fmt.severityRank('critical')).toBeGreaterThan(fmt.severityRank('high'));
    expect(fmt.severityRank('bogus')).toBe(-1);
  });
  it('escapes HTML for tooltips', () => {
    expect(fmt.escapeHtml('<img src=x onerror="alert(1)">&\'')).toBe('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;');
    expect(fmt.escapeHtml(undefined)).toBe('');
  });
});
