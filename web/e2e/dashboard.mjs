// End-to-end: `orbwatch demo` (the daemon fed by the simulator) and every dashboard page in
// Debian's chromium (playwright-core, headless). Each page must show the numbers the API gives,
// log no console error, and survive hostile text; then the same with an API token.
// Screenshots and timings go to $ARTIFACTS (default web/test-results).
//
//   ORBWATCH_BIN=build/orbwatch node web/e2e/dashboard.mjs
// Exit 77 (CTest: skipped) when chromium is not installed.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const BIN = process.env.ORBWATCH_BIN;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(process.env.ARTIFACTS ?? new URL('../test-results', import.meta.url).pathname);
if (!BIN) {
  console.error('ORBWATCH_BIN: the orbwatch binary to test');
  process.exit(2);
}
if (!fs.existsSync(CHROMIUM)) {
  console.log(`SKIP: ${CHROMIUM} is not installed (Debian package chromium; scripts/install-deps.sh installs it)`);
  process.exit(77);
}
fs.mkdirSync(ARTIFACTS, { recursive: true });
fs.rmSync(path.join(ARTIFACTS, 'failure.png'), { force: true });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orbwatch-web-'));
const children = [];
const timings = {};
let lastPage = null; // shot on failure

function start(args, wantLine, timeoutMs) {
  const child = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  const found = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${wantLine} from orbwatch ${args[0]}:\n${out}`)), timeoutMs);
    const onData = (d) => {
      out += d;
      const m = wantLine.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`orbwatch ${args[0]} exited (${code}):\n${out}`)));
  });
  found.catch(() => {});
  return { child, found, output: () => out };
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await Promise.race([done, new Promise((r) => setTimeout(r, 20000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

async function api(base, p, token) {
  const res = await fetch(base + p, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  assert.equal(res.status, 200, `${p}: HTTP ${res.status}`);
  return res.json();
}

async function poll(what, fn, timeoutMs = 60000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function watch(page, problems) {
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
}

const rows = (page, sel) => page.locator(`${sel} tbody tr`).count();
const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

async function liveChecks(browser, base) {
  const problems = [];
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
  const page = await context.newPage();
  lastPage = page;
  watch(page, problems);

  // ---- overview; how long until its data shows (from the navigation's start, cold then warm) ----
  const shown = async () => {
    await page.locator('#top-src tbody tr').first().waitFor();
    await page.locator('#tiles [data-value]').first().waitFor();
    return Math.round(await page.evaluate(() => performance.now()));
  };
  // The browser is already running (its first page pays for starting a renderer); the cache
  // is empty.
  const warmup = await browser.newPage();
  await warmup.goto('about:blank');
  await page.goto(`${base}/#/overview`);
  timings.overview_cold_ms = await shown();
  await warmup.close();
  await page.reload();
  timings.overview_warm_ms = await shown();
  const health = await api(base, '/api/v1/health');
  const newest = Date.parse(health.newest_flow);
  const range = `since=${new Date(newest - 7 * 86400e3).toISOString()}&until=${new Date(newest + 1000).toISOString()}`;
  const summary = await api(base, `/api/v1/alerts/summary?${range}`);
  const inventory = await api(base, '/api/v1/inventory');
  const values = await page.locator('#tiles [data-value]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
  assert.deepEqual(values, [health.flows_archived, summary.total, inventory.devices.length], 'overview tiles: flows archived, alerts, edge devices');
  assert.ok(summary.total > 0 && inventory.devices.length > 0, 'the demo raised alerts and found edge devices');
  const topSrc = await api(base, '/api/v1/flows/top?by=src_ip&order=bytes&n=10&since=1d');
  assert.equal(await page.locator('#top-src tbody tr td').first().innerText(), topSrc.rows[0].src_ip, 'top source');
  assert.equal(await rows(page, '#top-src'), topSrc.rows.length);
  for (const id of ['#chart-traffic', '#chart-alerts']) assert.equal(await page.locator(`${id} canvas`).count(), 1, `${id} drawn`);
  assert.equal(await rows(page, '#exporters'), (await api(base, '/api/v1/exporters')).exporters.length);
  await shot(page, 'overview-dark');
  await page.getByRole('button', { name: /theme/ }).click();
  await page.locator('#tiles [data-value]').first().waitFor();
  assert.ok(await page.evaluate(() => document.documentElement.classList.contains('light')), 'light theme');
  await page.locator('#top-src tbody tr').first().waitFor();
  await shot(page, 'overview-light');

  // ---- alerts: list, filter ----
  await page.goto(`${base}/#/alerts`);
  await page.locator('#alert-list tbody tr').first().waitFor();
  const alerts = await api(base, '/api/v1/alerts?limit=50');
  assert.equal(await rows(page, '#alert-list'), alerts.alerts.length);
  assert.equal(await page.locator('#alert-list a.alert-link').first().innerText(), alerts.alerts[0].alert.summary);
  await shot(page, 'alerts');
  await page.locator('select[name=detector]').selectOption('beacon');
  await page.waitForURL(/detector=beacon/);
  await page.locator('#alert-list tbody tr').first().waitFor();
  const beacons = await api(base, '/api/v1/alerts?detector=beacon&limit=50');
  assert.ok(beacons.alerts.length > 0, 'the demo raised beacon alerts');
  await poll('the beacon list', async () => (await rows(page, '#alert-list')) === beacons.alerts.length, 10000);

  // ---- a beacon alert: evidence, its flows, drill-down to Query ----
  await page.locator('#alert-list a.alert-link').first().click();
  const beacon = beacons.alerts[0].alert;
  await page.waitForURL(new RegExp(`#/alerts/${beacon.id}`));
  await page.locator('#alert-flow-count').waitFor();
  assert.ok(await page.locator('#evidence dt', { hasText: 'median_interval_s' }).count(), 'beacon evidence');
  const filter = await page.locator('#alert-filter').innerText();
  const flows = await api(base, `/api/v1/flows?limit=5000&filter=${encodeURIComponent(filter)}&since=${beacon.first_seen}&until=${beacon.last_seen}`);
  assert.ok(flows.flows.length > 0, 'the beacon has flows in the archive');
  assert.equal(Number(await page.locator('#alert-flow-count').getAttribute('data-value')), flows.flows.length, 'flows behind the alert');
  assert.ok((await page.locator('.chart canvas').count()) >= 3, 'inter-arrival histogram, connections, bytes');
  await shot(page, 'alert-beacon');
  await page.locator('#open-in-query').click();
  await page.waitForURL(/#\/query\?filter=/);
  await page.locator('#query-flows tbody tr').first().waitFor();
  const top = await api(base, `/api/v1/flows/top?by=src_ip&order=bytes&n=20&filter=${encodeURIComponent(filter)}&since=${beacon.first_seen}&until=${beacon.last_seen}`);
  await poll('the query totals', async () => Number(await page.locator('#query-info').getAttribute('data-flows')) === top.total.flows, 10000);
  assert.equal(await rows(page, '#query-flows'), Math.min(200, top.total.flows));
  await shot(page, 'query');
  // The URL is the query: opened afresh it gives the same answer.
  const shared = page.url();
  const page2 = await context.newPage();
  watch(page2, problems);
  await page2.goto(shared);
  await page2.locator('#query-flows tbody tr').first().waitFor();
  assert.equal(await page2.locator('#query-filter, input[name=filter]').inputValue(), filter);
  await page2.close();

  // ---- acknowledge, with a note that tries to inject script ----
  await page.goto(`${base}/#/alerts/${beacon.id}`);
  await page.locator('#ack').waitFor();
  const hostile = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
  await page.locator('input[aria-label=note]').fill(hostile);
  await page.locator('#ack').click();
  await poll('the ack', async () => (await page.locator('#alert-status').innerText()) === 'ack', 10000);
  const stored = await api(base, `/api/v1/alerts/${beacon.id}`);
  assert.equal(stored.status, 'ack');
  assert.equal(stored.note, hostile);
  assert.equal(await page.locator('#alert-note').innerText(), hostile, 'the note is shown as text');
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'no injected script ran');
  assert.equal(await page.locator('img[src=x]').count(), 0, 'no injected element');

  // ---- a spray alert: sources over time and their AS mix ----
  const sprays = await api(base, '/api/v1/alerts?detector=spray&limit=1');
  if (sprays.alerts.length) {
    await page.goto(`${base}/#/alerts/${sprays.alerts[0].alert.id}`);
    await page.locator('#alert-flow-count').waitFor();
    await poll('the spray charts', async () => (await page.locator('.chart canvas').count()) >= 4, 10000);
    await shot(page, 'alert-spray');
  }

  // ---- edge map ----
  await page.goto(`${base}/#/edge`);
  await page.locator('#edge-devices tbody tr').first().waitFor();
  assert.equal(await rows(page, '#edge-devices'), (await api(base, '/api/v1/inventory')).devices.length);
  assert.equal(await page.locator('#edge-graph canvas').count(), 1);
  await page.waitForTimeout(1500); // the force layout settles
  await shot(page, 'edge');

  // ---- host ----
  await page.goto(`${base}/#/host/${beacon.src_ip}`);
  await page.locator('#host-peers tbody tr').first().waitFor();
  const host = await api(base, `/api/v1/hosts/${beacon.src_ip}`);
  assert.equal(await rows(page, '#host-peers'), host.peers.length);
  assert.equal(await rows(page, '#host-alerts'), host.alerts.length);
  await shot(page, 'host');

  // ---- feeds ----
  await page.goto(`${base}/#/feeds`);
  await page.locator('#feeds tbody tr').first().waitFor();
  const feeds = await api(base, '/api/v1/feeds');
  assert.equal(await rows(page, '#feeds'), feeds.feeds.length);
  assert.equal(await page.locator('#feeds tbody tr td').first().innerText(), feeds.feeds[0].name);
  await shot(page, 'feeds');

  // ---- pages update without a reload ----
  await page.goto(`${base}/#/overview`);
  await page.locator('#tiles [data-value]').first().waitFor();
  const before = await page.locator('.status').innerText();
  await poll('a refresh', async () => (await page.locator('.status').innerText()) !== before, 25000);

  await context.close();
  assert.deepEqual(problems, [], 'console errors');
  return { flowsArchived: health.flows_archived };
}

async function reportChecks(browser, demoDir, live) {
  // `orbwatch analyze --report` over the daemon's archive, through a path that tries to inject.
  const hostile = path.join(tmp, '<img src=x onerror=window.__xss=1>');
  fs.symlinkSync(path.join(demoDir, 'data'), hostile);
  const file = path.join(tmp, 'report.html');
  const alertsOut = path.join(tmp, 'report-alerts.jsonl');
  const analyze = start(['analyze', hostile, '--config', path.join(demoDir, 'orbwatch.toml'), '--feed', path.join(demoDir, 'sim', 'feed.txt'), '--alerts-out', alertsOut, '--report', file, '-q'], /report +\S+/, 300000);
  await analyze.found;
  const ids = new Set(fs.readFileSync(alertsOut, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).id));
  timings.report_bytes = fs.statSync(file).size;
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  lastPage = page;
  const problems = [];
  watch(page, problems);
  const outside = [];
  page.on('request', (r) => {
    if (!/^(file|data):/.test(r.url())) outside.push(r.url());
  });
  await page.goto(`file://${file}#/overview`);
  await page.locator('#top-src tbody tr').first().waitFor();
  const values = await page.locator('#tiles [data-value]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
  assert.equal(values[0], live.flowsArchived, 'the report counts the archive the daemon wrote');
  assert.equal(values[1], ids.size, 'the report lists every alert analyze raised');
  assert.ok((await page.locator('#report-about').innerText()).includes('<img src=x onerror=window.__xss=1>'), 'the input path shown as text');
  await shot(page, 'report-overview');
  await page.goto(`file://${file}#/alerts?detector=beacon`);
  await page.locator('#alert-list tbody tr').first().waitFor();
  // A beacon alert of the report (analyze's own detection: its span may differ from the
  // daemon's): its flows equal what `orbwatch query` finds in the same archive.
  const data = await page.evaluate(() => JSON.parse(document.getElementById('orbwatch-report').textContent));
  const beacon = data.responses['/api/v1/alerts'].alerts.find((a) => a.alert.detector === 'beacon').alert;
  await page.goto(`file://${file}#/alerts/${beacon.id}`);
  await page.locator('#alert-flow-count').waitFor();
  const filter = await page.locator('#alert-filter').innerText();
  const query = spawnSync(BIN, ['query', '--store', path.join(demoDir, 'data'), '--since', beacon.first_seen, '--until', beacon.last_seen, '--format', 'jsonl', '-q', filter], { encoding: 'utf8' });
  assert.equal(query.status, 0, query.stderr);
  const expected = query.stdout.split('\n').filter(Boolean).length;
  assert.ok(expected > 0 && expected < 500, `the beacon has ${expected} flows`);
  assert.equal(Number(await page.locator('#alert-flow-count').getAttribute('data-value')), expected, 'the beacon\'s flows, as orbwatch query finds them');
  assert.ok((await page.locator('.chart canvas').count()) >= 3, 'the beacon\'s charts offline');
  await shot(page, 'report-alert-beacon');
  await page.goto(`file://${file}#/edge`);
  await page.locator('#edge-devices tbody tr').first().waitFor();
  assert.equal(await page.locator('#edge-graph canvas').count(), 1);
  await shot(page, 'report-edge');
  await page.goto(`file://${file}#/feeds`);
  await page.locator('#feeds tbody tr').first().waitFor();
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'no injected script ran');
  assert.deepEqual(outside, [], 'the report loads nothing from a network');
  assert.deepEqual(problems, [], 'console errors in the report');
  await context.close();
}

async function tokenChecks(browser, demoDir) {
  // The same data behind a token: the files load without it, the API needs it.
  let config = fs.readFileSync(path.join(demoDir, 'orbwatch.toml'), 'utf8');
  config = config.replace(/\[http\]\nlisten = "[^"]*"/, '[http]\nlisten = "127.0.0.1:0"\ntoken = "s3cret-t0ken"');
  fs.writeFileSync(path.join(demoDir, 'token.toml'), config);
  const run = start(['run', '--config', path.join(demoDir, 'token.toml')], /http on (127\.0\.0\.1:\d+)/, 60000);
  const base = `http://${(await run.found)[1]}`;
  assert.equal((await fetch(`${base}/app.js`)).status, 200, 'the dashboard loads without the token');
  assert.equal((await fetch(`${base}/api/v1/health`)).status, 401, 'the API does not');
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  lastPage = page;
  const problems = [];
  watch(page, problems);
  await page.goto(`${base}/#/overview`);
  await page.locator('dialog input[type=password]').fill('s3cret-t0ken');
  await page.locator('dialog button[type=submit]').click();
  await page.locator('#tiles [data-value]').first().waitFor();
  const health = await api(base, '/api/v1/health', 's3cret-t0ken');
  assert.equal(Number(await page.locator('#tiles [data-value]').first().getAttribute('data-value')), health.flows_archived);
  await shot(page, 'token-overview');
  await context.close();
  // The browser reports the first, refused, request; nothing else may be wrong.
  assert.deepEqual(problems.filter((p) => !/401/.test(p)), []);
  await stop(run.child);
}

let failed = false;
try {
  const demoDir = path.join(tmp, 'demo');
  const demo = start(['demo', '--hosts', '40', '--days', '3', '--http', '127.0.0.1:0', '--dir', demoDir], /dashboard (http:\/\/127\.0\.0\.1:\d+)\//, 120000);
  const base = (await demo.found)[1];
  await poll('the simulated week to be sent and scored', async () => /The daemon keeps running/.test(demo.output()), 600000);
  await poll('the edge inventory', async () => (await api(base, '/api/v1/inventory')).devices.length > 0, 60000);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const live = await liveChecks(browser, base);
    await stop(demo.child);
    await reportChecks(browser, demoDir, live);
    await tokenChecks(browser, demoDir);
  } catch (e) {
    if (lastPage) {
      await lastPage.screenshot({ path: path.join(ARTIFACTS, 'failure.png'), fullPage: true }).catch(() => {});
      const text = await lastPage.locator('body').innerText().catch(() => '');
      console.error(`the page at the failure: ${lastPage.url()} (failure.png)\n${text.slice(0, 3000)}`);
    }
    throw e;
  } finally {
    await browser.close();
  }
  fs.writeFileSync(path.join(ARTIFACTS, 'timings.json'), JSON.stringify(timings, null, 2) + '\n');
  console.log(`dashboard e2e: every page checked; overview data shown ${timings.overview_cold_ms} ms after navigation (${timings.overview_warm_ms} ms reloaded); screenshots in ${ARTIFACTS}`);
} catch (e) {
  failed = true;
  console.error(e);

} finally {
  for (const c of children) await stop(c);
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
