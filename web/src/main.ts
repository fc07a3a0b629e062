// The dashboard: a header, the page the URL names, a refresh loop. Live against the daemon's
// API, or offline over the data of a report file.
import './style.css';
import { ApiError, LiveSource, ReportSource, embeddedReport, type Source } from './api';
import { Charts } from './charts';
import { h, replace } from './dom';
import { href, parseRoute } from './logic';
import type { Ctx, Page, PageFactory } from './page';
import { overviewPage } from './pages/overview';
import { alertsPage } from './pages/alerts';
import { alertPage } from './pages/alert';
import { edgePage } from './pages/edge';
import { hostPage } from './pages/host';
import { queryPage } from './pages/query';
import { feedsPage } from './pages/feeds';

const report = embeddedReport(document);
const api: Source = report ? new ReportSource(report) : new LiveSource();

const NAV: [string, string, boolean][] = [
  ['overview', 'Overview', true],
  ['alerts', 'Alerts', true],
  ['edge', 'Edge map', true],
  ['query', 'Query', false],
  ['feeds', 'Feeds', true],
];

function pageFor(page: string, arg: string): PageFactory | null {
  switch (page) {
    case 'overview':
      return overviewPage;
    case 'alerts':
      return arg ? alertPage : alertsPage;
    case 'edge':
      return edgePage;
    case 'host':
      return api.offline ? null : hostPage;
    case 'query':
      return api.offline ? null : queryPage;
    case 'feeds':
      return feedsPage;
    default:
      return null;
  }
}

// ---- theme and wall mode ----
const THEME_KEY = 'orbwatch.theme';
function applyTheme(theme: string): void {
  document.documentElement.classList.toggle('light', theme === 'light');
}
let theme = localStorage.getItem(THEME_KEY) ?? (matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark');
applyTheme(theme);

// ---- frame ----
const navLinks = new Map<string, HTMLAnchorElement>();
const statusText = h('span', null, api.offline ? `offline report` : 'connecting…');
const statusDot = h('span', { class: 'dot' });
const banner = h('div', { class: 'banner', role: 'alert' });
const view = h('main', { id: 'view' });
const hostInput = h('input', { type: 'search', placeholder: 'host IP…', 'aria-label': 'go to host', class: 'host-search' });
const frame = h(
  'div',
  null,
  h(
    'header',
    { class: 'top' },
    h('div', { class: 'brand' }, 'orbwatch', h('small', null, api.offline ? api.title : 'covert-network monitor')),
    h(
      'nav',
      null,
      NAV.filter(([, , inReport]) => inReport || !api.offline).map(([page, title]) => {
        const a = h('a', { href: href(page) }, title);
        navLinks.set(page, a);
        return a;
      }),
    ),
    h('span', { class: 'spacer' }),
    api.offline
      ? null
      : h(
          'form',
          {
            class: 'host-search',
            onsubmit: (e: Event) => {
              e.preventDefault();
              const v = hostInput.value.trim();
              if (v) location.hash = href('host', v);
            },
          },
          hostInput,
        ),
    h(
      'button',
      {
        type: 'button',
        title: 'dark / light theme',
        onclick: () => {
          theme = theme === 'light' ? 'dark' : 'light';
          localStorage.setItem(THEME_KEY, theme);
          applyTheme(theme);
          render(); // charts take their colours when drawn
        },
      },
      '◐ theme',
    ),
    h(
      'button',
      { type: 'button', title: 'wall display: larger text, no controls', onclick: () => document.body.classList.toggle('wall') },
      '⛶ wall',
    ),
    h('span', { class: 'status' }, statusDot, statusText),
  ),
  banner,
  view,
);
document.getElementById('app')!.replaceWith(frame);
if (new URLSearchParams(location.search).has('wall')) document.body.classList.add('wall');

// ---- the token, when the daemon asks for one ----
let asking = false;
function askToken(): void {
  if (asking || !(api instanceof LiveSource)) return;
  asking = true;
  const input = h('input', { type: 'password', autocomplete: 'current-password', placeholder: 'API token', required: true });
  const remember = h('input', { type: 'checkbox' });
  const dialog = h(
    'dialog',
    null,
    h(
      'form',
      {
        method: 'dialog',
        onsubmit: () => {
          (api as LiveSource).setToken(input.value, remember.checked);
          asking = false;
          dialog.remove();
          render();
        },
      },
      h('h2', null, 'This orbwatch needs its API token'),
      h('p', { class: 'muted' }, 'The token of [http] token / token_file in the daemon\u2019s configuration.'),
      h('p', null, input),
      h('label', null, remember, ' remember on this browser'),
      h('p', null, h('button', { class: 'primary', type: 'submit' }, 'Sign in')),
    ),
  );
  document.body.append(dialog);
  dialog.showModal();
}

// ---- routing and refresh ----
let generation = 0;
let charts: Charts | null = null;
let timer: number | undefined;

function render(): void {
  generation++;
  const gen = generation;
  clearTimeout(timer);
  charts?.dispose();
  charts = new Charts();
  const route = parseRoute(location.hash);
  for (const [page, a] of navLinks) a.classList.toggle('active', page === route.page);
  const factory = pageFor(route.page, route.arg);
  replace(banner);
  if (!factory) {
    replace(view, h('h1', null, 'Not here'), h('p', null, 'No such page. ', h('a', { href: href('overview') }, 'Overview')));
    return;
  }
  const ctx: Ctx = {
    api,
    route,
    charts,
    navigate: (hash: string) => {
      if (location.hash === hash) render();
      else location.hash = hash;
    },
  };
  replace(view);
  const page: Page = factory(view, ctx);
  const loop = async () => {
    try {
      await page.refresh();
      if (gen !== generation) return;
      replace(banner);
      statusDot.classList.remove('bad');
      if (!api.offline) statusText.textContent = `live · updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      if (gen !== generation) return;
      statusDot.classList.add('bad');
      if (e instanceof ApiError && e.status === 401) {
        statusText.textContent = 'token needed';
        askToken();
        return;
      }
      replace(banner, e instanceof Error ? e.message : String(e));
      statusText.textContent = 'no answer';
    }
    if (!api.offline && gen === generation) timer = window.setTimeout(loop, (page.interval ?? 5) * 1000);
  };
  void loop();
}

window.addEventListener('hashchange', render);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && !api.offline) render();
});
render();
