// The statistics page (issue #16; /stats) in Chromium against the real gridline with the demo's
// month of synthetic cases (cmd/gridline/statsweb_test.go starts it): filters change the charts
// and the table as GET /v1/stats answers them; the map colours the basic grids by the chosen rate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { base, skip, launch, watch, api, signIn, artifacts } from '../test-console/common.mjs';

const month = process.env.GRIDLINE_STATS_MONTH;
let browser, page;
const problems = [];

before(async () => {
  if (skip) return;
  browser = await launch();
  const ctx = await browser.newContext({ viewport: { width: 1500, height: 950 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  page = await ctx.newPage();
  await watch(ctx, page, problems);
});

after(async () => { await browser?.close(); });

const loaded = (query) => page.waitForFunction((q) => document.body.dataset.loaded === '1' && document.body.dataset.query.includes(q), query, { timeout: 30000 });
const tableKeys = () => page.$$eval('#table tbody tr[data-key]', (trs) => trs.map((tr) => tr.dataset.key));
const chartOf = (id) => page.evaluate((id) => { const c = window.gridlineStats.charts[id]; return { type: c.config.type, labels: c.data.labels, data: c.data.datasets.map((d) => d.data) }; }, id);

test('the statistics page: filters change the charts and the table', { skip }, async (t) => {
  await page.goto(`${base}/stats?month=${month}&group=subdistrict`);
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 30000 });
  await signIn(page, 'supervisor');
  await loaded('group=subdistrict');

  await t.test('the table and the charts show the rows of GET /v1/stats', async () => {
    const want = await api('GET', `/v1/stats?group=subdistrict&month=${month}`);
    assert.ok(want.rows.length > 0, 'the demo has subdistricts with cases');
    assert.deepEqual((await tableKeys()).sort(), want.rows.map((r) => r.key).sort());
    const rate = await chartOf('#chart-rate');
    assert.equal(rate.labels.length, want.rows.length);
    const counts = await chartOf('#chart-counts');
    assert.equal(counts.data[0].reduce((a, b) => a + b, 0), want.rows.reduce((a, r) => a + r.reported, 0), 'reported summed over the groups');
  });

  await t.test('another group: communities', async () => {
    await page.selectOption('#f-group', 'community');
    await loaded('group=community');
    const want = await api('GET', `/v1/stats?group=community&month=${month}`);
    assert.ok(want.rows.length > (await api('GET', `/v1/stats?group=subdistrict&month=${month}`)).rows.length);
    assert.deepEqual((await tableKeys()).sort(), want.rows.map((r) => r.key).sort());
    assert.equal((await chartOf('#chart-rate')).labels.length, want.rows.length);
  });

  await t.test('a scope: one subdistrict, its communities only', async () => {
    const subs = await api('GET', `/v1/stats?group=subdistrict&month=${month}`);
    const sub = subs.rows[0].key;
    await page.fill('#f-scope', sub);
    await page.locator('#f-scope').dispatchEvent('change');
    await loaded(`scope=${sub}`);
    const want = await api('GET', `/v1/stats?group=community&scope=${sub}&month=${month}`);
    assert.deepEqual((await tableKeys()).sort(), want.rows.map((r) => r.key).sort());
    assert.ok((await tableKeys()).every((k) => k.startsWith(sub)), 'every community is in the subdistrict');
    await page.fill('#f-scope', '');
    await page.locator('#f-scope').dispatchEvent('change');
    await page.waitForFunction(() => !document.body.dataset.query.includes('scope='), null, { timeout: 30000 });
    await loaded('group=community');
  });

  await t.test('a bucket by day turns the counts into a time series', async () => {
    await page.selectOption('#f-bucket', 'day');
    await loaded('bucket=day');
    const counts = await chartOf('#chart-counts');
    assert.equal(counts.type, 'line');
    assert.ok(counts.labels.length >= 20 && counts.labels.every((l) => l.startsWith(month)), `days of the month: ${counts.labels.slice(0, 3)}`);
    await page.selectOption('#f-bucket', 'none');
    await page.waitForFunction(() => !document.body.dataset.query.includes('bucket='), null, { timeout: 30000 });
  });

  await t.test('a custom period', async () => {
    await page.selectOption('#f-period', 'custom');
    await page.fill('#f-from', `${month}-01`);
    await page.fill('#f-to', `${month}-10`);
    await page.locator('#filters button[type=submit]').click();
    await loaded(`from=${month}-01`);
    const want = await api('GET', `/v1/stats?group=community&from=${month}-01&to=${month}-10`);
    const shown = await page.$$eval('#table tbody tr.total td', (tds) => tds.map((td) => td.textContent));
    assert.equal(Number(shown[2]), want.total.reported, 'the total row: reported in the first ten days');
    await page.selectOption('#f-period', 'month');
    await page.locator('#filters button[type=submit]').click();
    await loaded(`month=${month}`);
  });

  await t.test('sorting the table by a rate', async () => {
    await page.locator('#table th[data-key="reported"]').click();
    const col = await page.$$eval('#table tbody tr[data-key] td:nth-child(3)', (tds) => tds.map((td) => Number(td.textContent)));
    assert.deepEqual(col, [...col].sort((a, b) => b - a), 'descending by reported');
    await page.locator('#table th[data-key="reported"]').click();
    const up = await page.$$eval('#table tbody tr[data-key] td:nth-child(3)', (tds) => tds.map((td) => Number(td.textContent)));
    assert.deepEqual(up, [...up].sort((a, b) => a - b), 'ascending on the second click');
  });

  await t.test('the CSV download is the same figures', async () => {
    const href = await page.getAttribute('#csv', 'href');
    const csv = await page.evaluate(async (h) => (await fetch(h)).text(), href);
    assert.ok(csv.startsWith('\ufeff') || csv.startsWith('key') || csv.includes('on_time_close_rate'), csv.slice(0, 80));
    assert.ok(csv.split('\n')[0].includes('on_time_close_rate'), 'the header names the figures');
  });
  await page.screenshot({ path: join(artifacts, 'stats-page.png') });
  assert.deepEqual(problems, []);
});

test('the statistics page: the map colours grids by the chosen rate', { skip }, async () => {
  await page.selectOption('#f-rate', 'close_rate');
  await page.waitForFunction(() => Number(document.body.dataset.mapGrids) > 0, null, { timeout: 30000 });
  const want = await api('GET', `/v1/stats?group=grid&month=${month}`);
  const withRate = want.rows.filter((r) => r.grid_id && r.close_rate !== null);
  assert.ok(withRate.length > 0);
  await page.evaluate(() => new Promise((ok) => { const m = window.gridlineMap; m.once('idle', ok); m.triggerRepaint(); }));
  const shown = await page.evaluate(() => window.gridlineMap.queryRenderedFeatures({ layers: ['stats-fill'] })
    .filter((f) => typeof f.state.rate === 'number' && f.state.rate >= 0).map((f) => ({ id: f.id, rate: f.state.rate })));
  assert.ok(shown.length > 0, 'grids on the map carry their rate');
  for (const s of shown.slice(0, 20)) {
    const r = withRate.find((x) => x.grid_id === s.id);
    assert.ok(r, `grid ${s.id} has a row`);
    assert.equal(s.rate, r.close_rate);
  }
  // The map shows the colours: many colours among the pixels of its screenshot, read back in the
  // page (a data: image is allowed there).
  const shot = await page.locator('#map').screenshot({ path: join(artifacts, 'stats-map.png') });
  const colours = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = 'data:image/png;base64,' + b64;
    await img.decode();
    const g = document.createElement('canvas'); g.width = img.width; g.height = img.height;
    const x = g.getContext('2d'); x.drawImage(img, 0, 0);
    const d = x.getImageData(0, 0, g.width, g.height).data;
    const seen = new Set();
    for (let i = 0; i < d.length; i += 4 * 97) if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) seen.add(`${d[i] >> 5},${d[i + 1] >> 5},${d[i + 2] >> 5}`);
    return seen.size;
  }, shot.toString('base64'));
  assert.ok(colours >= 3, `the map shows grids in the ramp's colours (${colours} colours)`);
  assert.deepEqual(problems, []);
});
