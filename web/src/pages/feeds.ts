// Feeds: every configured threat feed, its entries, age and errors.
import * as fmt from '../format';
import { h, replace, table } from '../dom';
import { freshness } from '../logic';
import type { PageFactory } from '../page';
import type { Feed } from '../types';

export const feedsPage: PageFactory = (root, ctx) => {
  const list = h('div', { id: 'feeds' });
  root.append(h('h1', null, 'Threat feeds'), list);
  return {
    interval: 15,
    async refresh() {
      const { feeds } = await ctx.api.get<{ feeds: Feed[] }>('/api/v1/feeds');
      replace(
        list,
        table(
          [
            { title: 'feed', value: (f) => h('strong', null, f.name) },
            { title: 'source', value: (f) => h('code', null, f.source) },
            { title: 'format', value: (f) => f.format },
            { title: 'entries', value: (f) => fmt.count(f.entries), num: true },
            { title: 'age', value: (f) => h('span', { class: `badge ${freshness(f.age_s ?? null)}` }, f.age_s === undefined ? 'never loaded' : fmt.duration(f.age_s)) },
            { title: 'last success', value: (f) => fmt.time(f.last_success) },
            { title: 'next attempt', value: (f) => fmt.time(f.next_attempt) },
            { title: 'failures', value: (f) => h('span', { class: f.consecutive_failures ? 'error' : '' }, String(f.consecutive_failures)), num: true },
            { title: 'rejected updates', value: (f) => String(f.rejected_updates), num: true },
            { title: 'last error', value: (f) => (f.last_error ? h('span', { class: 'error' }, f.last_error) : '') },
          ],
          feeds,
          'no feeds configured ([[feeds]] in the configuration)',
        ),
      );
    },
  };
};
