import type { Source } from './api';
import type { Charts } from './charts';
import type { Route } from './logic';
import { h, type Child } from './dom';
import { href } from './logic';

export interface Ctx {
  api: Source;
  route: Route;
  charts: Charts;
  /** Replaces the URL's parameters (shareable) and renders the page again. */
  navigate(hash: string): void;
}

/** A page builds its frame once; refresh() fetches and fills it (polled while live). */
export interface Page {
  refresh(): Promise<void>;
  /** Seconds between refreshes (live only). */
  interval?: number;
}

export type PageFactory = (root: HTMLElement, ctx: Ctx) => Page;

/** An address: a link to its host page when live (the report has no host pages). */
export function ip(ctx: Ctx, addr: string | undefined | null): Child {
  if (!addr) return '–';
  return ctx.api.offline ? h('span', { class: 'ip' }, addr) : h('a', { class: 'ip', href: href('host', addr) }, addr);
}

export function severity(s: string): HTMLElement {
  return h('span', { class: `badge sev-${/^(low|medium|high|critical)$/.test(s) ? s : 'low'}` }, s);
}

/** Seconds from a time to the newest flow (event time), or to now. */
export function ageSeconds(t: string | null | undefined, reference = Date.now()): number | null {
  if (!t) return null;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? Math.max(0, (reference - ms) / 1000) : null;
}
