// Edge map: the devices that answer the internet, their services and when each appeared, the
// allow-lists that govern them, and a graph of the devices with their external peers coloured
// by network type and intel hits.
import * as fmt from '../format';
import { palette } from '../charts';
import { badge, card, h, replace, table } from '../dom';
import { href } from '../logic';
import { ip, type PageFactory } from '../page';
import type { Asset, Device, Inventory, StoredAlert, Top } from '../types';

const GRAPH_DEVICES = 12;
const PEERS_PER_DEVICE = 8;

export const edgePage: PageFactory = (root, ctx) => {
  const graph = h('div', { class: 'chart tall', id: 'edge-graph' });
  const legend = h('div', { class: 'legend-row' });
  const devices = h('div', { id: 'edge-devices' });
  const changes = h('div', { id: 'exposure-changes' });
  const allow = h('div', { id: 'allow-state' });
  root.append(
    h('h1', null, 'Edge map'),
    h('div', { class: 'grid' }, card('Edge devices and their external peers', legend, graph), card('Devices and exposed services', devices), h('div', { class: 'span-6' }, card('Exposure changes', changes)), h('div', { class: 'span-6' }, card('Allow-lists', allow))),
  );

  let peers: { at: number; key: string; tops: (Top | null)[] } | null = null;

  return {
    interval: 15,
    async refresh() {
      const [inv, assets, intel, exposure, breaches] = await Promise.all([
        ctx.api.get<Inventory>('/api/v1/inventory'),
        ctx.api.get<{ assets: Asset[] }>('/api/v1/assets'),
        ctx.api.get<{ alerts: StoredAlert[] }>('/api/v1/alerts', { detector: 'intel', limit: 1000 }),
        ctx.api.get<{ alerts: StoredAlert[] }>('/api/v1/alerts', { detector: 'exposure', limit: 200 }),
        ctx.api.get<{ alerts: StoredAlert[] }>('/api/v1/alerts', { detector: 'allowlist', limit: 1000 }),
      ]);
      const busiest = [...inv.devices].sort((a, b) => sum(b) - sum(a));
      const shown = busiest.slice(0, GRAPH_DEVICES);
      // Inbound peers of each device: who opens sessions to its services.
      // Each device's peers take an archive scan: at most once a minute.
      const key = shown.map((d) => d.ip).join(',');
      if (!peers || peers.key !== key || Date.now() - peers.at >= 60_000) {
        const tops = await Promise.all(shown.map((d) => ctx.api.get<Top>('/api/v1/flows/top', { by: 'src_ip', order: 'flows', n: PEERS_PER_DEVICE, filter: `dst host ${d.ip}`, since: '7d' }).catch(() => null)));
        peers = { at: Date.now(), key, tops };
      }
      const tops = peers.tops;
      const peerIps = new Set<string>();
      tops.forEach((t) => t?.rows.forEach((r) => peerIps.add(String(r.src_ip))));
      const addrs = [...new Set([...peerIps, ...inv.devices.map((d) => d.ip)])].slice(0, 1000);
      const lookups = await ctx.api.lookup(addrs);
      const info = new Map(lookups.map((l) => [l.ip, l]));
      const intelHits = new Set<string>();
      for (const a of intel.alerts) intelHits.add(a.alert.src_ip).add(a.alert.dst_ip);

      // ---- graph ----
      const p = palette();
      const categories = ['edge device', 'residential', 'hosting', 'business', 'unknown', 'internal', 'intel hit'];
      const colours = [p.accent, p.residential, p.hosting, p.business, p.unknown, p.internal, p.intel];
      const nodes: object[] = [];
      const links: object[] = [];
      const seen = new Set<string>();
      shown.forEach((d, i) => {
        nodes.push({ id: d.ip, name: d.ip, category: 0, symbolSize: 14 + Math.min(26, Math.log2(1 + sum(d))), value: `${d.kinds.join(', ') || 'edge device'}; ${d.services.length} services` });
        seen.add(d.ip);
        for (const r of tops[i]?.rows ?? []) {
          const peer = String(r.src_ip);
          const l = info.get(peer);
          if (l?.internal && !intelHits.has(peer)) continue;
          if (!seen.has(peer)) {
            seen.add(peer);
            const cat = intelHits.has(peer) ? 6 : Math.max(1, categories.indexOf(l?.as_type ?? 'unknown'));
            nodes.push({ id: peer, name: peer, category: cat, symbolSize: 8, value: l?.asn ? `AS${l.asn} ${l.as_org} (${l.as_type}${l.country ? `, ${l.country}` : ''})` : 'AS unknown' });
          }
          links.push({ source: peer, target: d.ip, value: r.flows });
        }
      });
      replace(legend, categories.map((c, i) => h('span', null, h('span', { class: 'swatch', 'data-colour': i }), c)));
      legend.querySelectorAll<HTMLElement>('.swatch').forEach((s, i) => (s.style.background = colours[i]));
      ctx.charts.set(graph, {
        animation: false,
        color: colours,
        tooltip: { trigger: 'item', formatter: (x: { dataType: string; name: string; value: unknown }) => (x.dataType === 'edge' ? `${fmt.escapeHtml(x.value)} flows` : `${fmt.escapeHtml(x.name)}<br>${fmt.escapeHtml(x.value)}`) },
        series: [
          {
            type: 'graph',
            layout: 'force',
            roam: true,
            draggable: true,
            categories: categories.map((name) => ({ name })),
            data: nodes,
            links,
            force: { repulsion: 120, edgeLength: [40, 120], gravity: 0.08 },
            label: { show: true, position: 'right', color: p.muted, fontSize: 10, formatter: (x: { data: { category: number }; name: string }) => (x.data.category === 0 ? x.name : '') },
            lineStyle: { color: p.grid, opacity: 0.8 },
          },
        ],
      });

      // ---- devices ----
      const assetOf = (addr: string) => info.get(addr)?.asset ?? '';
      replace(
        devices,
        table(
          [
            { title: 'device', value: (d) => ip(ctx, d.ip) },
            { title: 'asset', value: (d) => assetOf(d.ip) || h('span', { class: 'muted' }, 'not in the model') },
            { title: 'kind', value: (d) => d.kinds.map((k) => badge(k, k.startsWith('backdoor') ? 'sev-critical' : '')) },
            { title: 'services', value: (d) => d.services.map((s, i) => [i ? ' ' : '', h('span', { class: 'badge', title: `${fmt.count(s.flows)} flows, ~${fmt.count(s.peers)} external peers` }, fmt.service(s.proto, s.port))]) },
            { title: 'peers', value: (d) => fmt.count(d.services.reduce((n, s) => n + s.peers, 0)), num: true },
            { title: 'flows', value: (d) => fmt.count(sum(d)), num: true },
            { title: 'first seen', value: (d) => fmt.time(d.first_seen) },
            { title: 'intel', value: (d) => (intelHits.has(d.ip) ? badge('hit', 'sev-critical') : '') },
          ],
          busiest,
          'no edge device seen yet: no internal address has answered an outside initiator',
        ),
      );

      // ---- exposure changes: services that appeared after the inventory's first day ----
      const all = inv.devices.flatMap((d) => d.services.map((s) => ({ d, s, t: Date.parse(s.first_seen ?? '') })));
      const start = Math.min(...all.map((x) => x.t).filter(Number.isFinite));
      const appeared = all.filter((x) => x.t > start + 86400e3).sort((a, b) => b.t - a.t);
      replace(
        changes,
        table(
          [
            { title: 'when', value: (x) => fmt.time(x.s.first_seen) },
            { title: 'device', value: (x) => ip(ctx, x.d.ip) },
            { title: 'new service', value: (x) => fmt.service(x.s.proto, x.s.port) },
            { title: 'peers', value: (x) => fmt.count(x.s.peers), num: true },
          ],
          appeared.slice(0, 50),
          'no service appeared after the first day the inventory watched',
        ),
        exposure.alerts.length ? h('h2', { class: 'mt' }, 'Exposure alerts') : null,
        exposure.alerts.slice(0, 20).map((a) => h('p', null, h('a', { href: href('alerts', a.alert.id) }, a.alert.summary))),
      );

      // ---- allow-lists: which assets have one, how often it was breached ----
      const breachesByAsset = new Map<string, number>();
      for (const b of breaches.alerts) breachesByAsset.set(b.alert.asset ?? '', (breachesByAsset.get(b.alert.asset ?? '') ?? 0) + 1);
      replace(
        allow,
        table(
          [
            { title: 'asset', value: (a) => a.name },
            { title: 'kind', value: (a) => a.kind },
            { title: 'services', value: (a) => a.services.join(' ') || '–' },
            { title: 'allowed from', value: (a) => (a.allow.length ? a.allow.map((r) => `${r.services.join(' ') || 'any'} ← ${r.from.join(', ')}`).join('; ') : h('span', { class: 'sev-medium' }, 'no allow-list')) },
            { title: 'breaches', value: (a) => h('a', { href: href('alerts', '', { detector: 'allowlist' }) }, String(breachesByAsset.get(a.name) ?? 0)), num: true },
          ],
          assets.assets,
          'the network model names no assets ([[assets]] in the configuration)',
        ),
      );
    },
  };
};

function sum(d: Device): number {
  return d.services.reduce((n, s) => n + s.flows, 0);
}
