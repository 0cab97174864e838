// Patrols and routes on the dispatcher's console (issue #16) in Chromium against the real gridline,
// PostGIS and pgRouting (cmd/gridline/patrolmap_test.go starts it, with two workers' positions
// sent through the API and a filed case): both workers are on the map, the one outside his own
// grid says so; selecting a worker draws his track today with his figures; a case's card lists
// the nearest workers by road with the chosen one's route drawn and dispatches to the chosen worker in one click.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const base = process.env.GRIDLINE_BASE_URL;
const password = process.env.GRIDLINE_PASSWORD;
const token = process.env.GRIDLINE_TOKEN;
const caseID = Number(process.env.GRIDLINE_CASE);
const near = Number(process.env.GRIDLINE_NEAR); // the worker walking in his own grid, near the case
const outside = Number(process.env.GRIDLINE_OUTSIDE); // the worker outside his own grid
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const artifacts = process.env.GRIDLINE_ARTIFACTS || resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-artifacts');
const skip = !base ? 'GRIDLINE_BASE_URL is not set (run it from go test ./cmd/gridline -run PatrolMap)' : !existsSync(chromium) ? `no Chromium at ${chromium}` : false;

let browser, page;
const problems = [];

async function api(method, path, body) {
  const res = await fetch(base + path, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const out = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(out)}`);
  return out;
}

before(async () => {
  if (skip) return;
  mkdirSync(artifacts, { recursive: true });
  const { chromium: pw } = await import('playwright-core');
  browser = await pw.launch({
    executablePath: chromium, headless: true,
    args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-default-apps', '--disable-dev-shm-usage'],
  });
  const ctx = await browser.newContext({ viewport: { width: 1500, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  page = await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await ctx.route((u) => !u.href.startsWith(base) && !u.href.startsWith('data:') && !u.href.startsWith('blob:'), (r) => {
    problems.push(`external request: ${r.request().url()}`);
    return r.abort();
  });
});

after(async () => { await browser?.close(); });

// idle waits until the map has drawn what it was given (for the screenshots).
const idle = () => page.evaluate(() => new Promise((ok) => { window.gridlineMap.once('idle', ok); window.gridlineMap.triggerRepaint(); }));
const source = (id) => page.evaluate((id) => window.gridlineMap.getSource(id).serialize().data, id);

test("workers on the map, a worker's track and figures, and the nearest workers by road in a case's card", { skip }, async (t) => {
  await page.goto(base + '/console');
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 30000 });
  await page.locator('#sign-in input[name=username]').fill('dispatcher');
  await page.locator('#sign-in input[name=password]').fill(password);
  await page.locator('#sign-in button[type=submit]').click();
  await page.waitForFunction(() => document.body.dataset.consoleReady === '1', null, { timeout: 30000 });

  await t.test('both workers on duty are on the map and in the list; the one outside his grid says so', async () => {
    await page.locator('#patrol-workers li[data-person]').nth(1).waitFor({ timeout: 15000 });
    const fc = await source('workers');
    assert.deepEqual(fc.features.map((f) => f.properties.person_id).sort(), [near, outside].sort());
    const out = page.locator(`#patrol-workers li[data-person="${outside}"]`);
    assert.equal(await out.getAttribute('data-outside'), '1');
    const text = await out.innerText();
    for (const want of ['周杰', '不在本网格', '建新街社区第1网格', '兴华街社区第1网格']) assert.ok(text.includes(want), `the row lacks ${want}: ${text}`);
    assert.ok(/刚刚|分钟前/.test(text), `no last-seen age: ${text}`);
    assert.equal(await page.locator(`#patrol-workers li[data-person="${near}"]`).getAttribute('data-outside'), '0');
    assert.equal(fc.features.find((f) => f.properties.person_id === outside).properties.in_own_grid, false);
  });

  await t.test('the toggle hides and shows the workers', async () => {
    await page.locator('#patrols-show').uncheck();
    assert.equal(await page.evaluate(() => window.gridlineMap.getLayoutProperty('worker-points', 'visibility')), 'none');
    assert.ok(await page.locator('#patrols-body').isHidden());
    await page.locator('#patrols-show').check();
    assert.equal(await page.evaluate(() => window.gridlineMap.getLayoutProperty('worker-points', 'visibility')), 'visible');
    await page.locator(`#patrol-workers li[data-person="${near}"]`).waitFor();
  });

  await t.test("selecting a worker draws his track today with his figures and his grid's days without a patrol", async () => {
    await page.locator(`#patrol-workers li[data-person="${near}"]`).click();
    await page.locator('#fig-distance').waitFor({ timeout: 15000 });
    const want = await api('GET', `/v1/workers/${near}/track`);
    const track = await source('worker-track');
    assert.equal(track.features.length, 1);
    assert.deepEqual(track.features[0].geometry.coordinates, want.geometry.coordinates);
    assert.equal(want.geometry.coordinates.flat().length, 9, 'nine points on the track');
    const p = want.properties;
    assert.ok(p.distance_m > 440 && p.distance_m < 450, `distance ${p.distance_m}`); // 0.004° of latitude ≈ 445 m
    assert.equal(Number(await page.locator('#fig-distance').getAttribute('data-value')), p.distance_m);
    assert.equal(Number(await page.locator('#fig-outside').getAttribute('data-value')), p.outside_minutes);
    assert.equal(p.outside_minutes, 0);
    assert.equal(Number(await page.locator('#fig-covered').getAttribute('data-value')), p.covered_share);
    assert.ok(p.covered_share > 0 && p.covered_share < 1);
    const day = await page.locator('#patrol-day').innerText();
    for (const want of ['今日轨迹', '网格覆盖率', '离开本网格', '巡查里程', (p.distance_m / 1000).toFixed(2)]) assert.ok(day.includes(want), `the day lacks ${want}: ${day}`);
    // Grid 7 was patrolled today by its worker (the summary's days without a patrol: 0).
    const g = page.locator('#patrol-grids li[data-grid="7"]');
    await g.waitFor({ timeout: 15000 });
    assert.equal(await g.getAttribute('data-days'), '0');
    assert.ok((await g.innerText()).includes('今日已巡'));
    await idle();
    await page.screenshot({ path: join(artifacts, 'console-patrols.png') });
  });

  await t.test("a grid's subtree: the days without a patrol of each grid with a patrolling post", async () => {
    await page.locator('#patrol-grid').fill('410103001');
    await page.locator('#patrol-grid-form button[type=submit]').click();
    await page.locator('#patrol-grid-days li[data-grid="7"]').waitFor({ timeout: 30000 });
    const want = await api('GET', '/v1/patrols/summary?grid=2'); // 淮河路街道, 410103001
    const rows = page.locator('#patrol-grid-days li[data-grid]');
    assert.equal(await rows.count(), want.grids.length);
    for (const g of want.grids) assert.equal(await page.locator(`#patrol-grid-days li[data-grid="${g.grid_id}"]`).getAttribute('data-days'), String(g.days_without_patrol ?? ''));
    // 周杰 was never in his grid 9: no patrol on record, listed before grid 7 (patrolled today).
    assert.equal(await page.locator('#patrol-grid-days li[data-grid="9"]').getAttribute('data-days'), '');
    assert.ok((await page.locator('#patrol-grid-days li[data-grid="9"]').innerText()).includes('无巡查记录'));
    assert.equal(await rows.last().getAttribute('data-grid'), '7');
  });

  await t.test("the case's card lists the nearest workers by road, draws the route and dispatches to the chosen one", async () => {
    await page.evaluate((id) => window.gridlineConsole.openCard(id), caseID);
    const first = page.locator('#nearest li[data-person]').first();
    await first.waitFor({ timeout: 20000 });
    const want = await api('GET', `/v1/routes/nearest-workers?at=${(await api('GET', `/v1/cases/${caseID}`)).lon},${(await api('GET', `/v1/cases/${caseID}`)).lat}&n=5`);
    const rows = page.locator('#nearest li[data-person]');
    assert.equal(await rows.count(), want.features.length);
    assert.equal(want.features.length, 2);
    assert.equal(Number(await first.getAttribute('data-person')), near, 'the worker in grid 7 is nearest by road');
    assert.equal(Number(await first.getAttribute('data-length')), want.features[0].properties.route.length_m);
    const text = await first.innerText();
    assert.ok(/公里/.test(text) && /分钟/.test(text), `no distance or minutes: ${text}`);
    const road = async () => (await source('worker-route')).features.filter((f) => f.properties.part === 'road');
    let route = await road();
    assert.equal(route.length, 1);
    assert.deepEqual(route[0].geometry.coordinates, want.features[0].geometry.coordinates);
    assert.ok(route[0].geometry.coordinates.length >= 2);
    // Choosing the other worker draws his route instead.
    await page.locator(`#nearest button[data-route="${outside}"]`).click();
    route = await road();
    assert.equal(route[0].properties.person_id, outside);
    assert.deepEqual(route[0].geometry.coordinates, want.features[1].geometry.coordinates);
    assert.ok(await page.locator(`#nearest li[data-person="${outside}"].open`).isVisible());
    await idle();
    await page.screenshot({ path: join(artifacts, 'console-nearest.png') });
    // One click dispatches the case to the chosen worker, here not routing's suggestion (the grid's
    // own worker) but the other one (the Go test reads the party through the API).
    await page.locator(`#nearest button[data-dispatch="${outside}"]`).click();
    await page.locator('#card-state[data-state="dispatched"]').waitFor({ timeout: 15000 });
    assert.ok((await page.locator('#card-party').innerText()).includes('周杰'));
    await page.locator(`#nearest li[data-person="${outside}"] .tag`).waitFor({ timeout: 15000 });
    assert.equal(await page.locator(`#nearest button[data-dispatch="${outside}"]`).count(), 0);
  });

  assert.deepEqual(problems, []);
});
