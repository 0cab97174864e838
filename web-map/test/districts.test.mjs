// The map shows whatever was loaded (issue #11): a data set of many districts and no lower levels
// is drawn, the map opens on its extent, and the hierarchy tree pages and searches through all of
// it. cmd/gridline/map_test.go serves the data set and sets GRIDLINE_DISTRICTS_URL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { desktop, launch, mapIdle, skipUnless, watch } from '../test-lib/browser.mjs';

const base = process.env.GRIDLINE_DISTRICTS_URL;
const n = Number(process.env.GRIDLINE_DISTRICTS_N || 0);
const skip = skipUnless('GRIDLINE_DISTRICTS_URL', 'go test ./cmd/gridline -run WebMap');

let browser, page;
const problems = [];

before(async () => {
  if (skip) return;
  browser = await launch();
  const ctx = await browser.newContext(desktop());
  page = await ctx.newPage();
  await watch(ctx, page, problems);
});

after(async () => { await browser?.close(); });

const idle = () => mapIdle(page);

test('many districts and no lower levels: drawn, framed, listed and found', { skip }, async (t) => {
  await page.goto(base + '/');
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 30000 });
  await idle();

  await t.test('the map opens on the data and draws the districts', async () => {
    const v = await page.evaluate(() => {
      const m = window.gridlineMap;
      const b = m.getBounds();
      return { zoom: m.getZoom(), w: b.getWest(), s: b.getSouth(), e: b.getEast(), n: b.getNorth() };
    });
    // The districts span 100-112 E, 25-31 N.
    assert.ok(v.w <= 100.01 && v.e >= 111.95 && v.s <= 25.01 && v.n >= 30.95, `view ${JSON.stringify(v)} does not hold the data`);
    assert.ok(v.e - v.w < 40, `view ${JSON.stringify(v)} is far wider than the data`);
    const drawn = await page.evaluate(() => new Set(window.gridlineMap.queryRenderedFeatures({ layers: ['districts-fill'] }).map((f) => f.properties.code)).size);
    assert.ok(drawn > n / 2, `${drawn} of ${n} districts drawn at the opening view`);
  });

  await t.test('the tree pages through every district', async () => {
    const rows = () => page.locator('#tree > li[data-code]').count();
    assert.equal(await rows(), 200);
    for (let i = 0; i < 10 && (await rows()) < n; i++) {
      const before = await rows();
      await page.locator('#tree > li.more button').click();
      await page.waitForFunction((k) => document.querySelectorAll('#tree > li[data-code]').length > k, before);
    }
    assert.equal(await rows(), n);
    assert.equal(await page.locator('#tree > li.more').count(), 0);
    await page.locator(`#tree > li[data-code="${500000 + n - 1}"]`).waitFor();
  });

  await t.test('search finds a district past the first page', async () => {
    await page.fill('#search', `测试区${n - 1}`);
    await page.locator(`#results li[data-code="${500000 + n - 1}"]`).waitFor();
  });

  await t.test('no errors', () => { assert.deepEqual(problems, []); });
});
