// Browser test of the coverage audit panel: playwright-core drives the system Chromium against a
// running gridline serving the test fixture damaged with a gap and an overlap
// (cmd/gridline/auditmap_test.go starts it and sets GRIDLINE_BASE_URL). It lives outside test/
// because the map's own tests run against the undamaged fixture.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { artifacts, desktop, launch, mapIdle, skipUnless, watch } from '../test-lib/browser.mjs';

const base = process.env.GRIDLINE_BASE_URL;
const skip = skipUnless('GRIDLINE_BASE_URL', 'go test ./cmd/gridline -run AuditPanel');

let browser, page;
const problems = [];

before(async () => {
  if (skip) return;
  browser = await launch();
  const ctx = await browser.newContext(desktop());
  page = await ctx.newPage();
  await watch(ctx, page, problems, { offline: base });
});

after(async () => { await browser?.close(); });

const idle = () => mapIdle(page);

test('the audit panel lists the findings by rule, draws them and flies to one', { skip }, async (t) => {
  await page.goto(base + '/');
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 30000 });
  await idle();
  assert.equal(await page.locator('#audit-title').textContent(), '覆盖核查');

  await t.test('running it for the district in view lists gaps, overlaps and the vacancy', async () => {
    await page.locator('#audit-run').click();
    await page.waitForFunction(() => document.querySelector('#audit')?.dataset.done, null, { timeout: 30000 });
    assert.match(await page.locator('#audit p.muted').first().textContent(), /410103/);
    for (const rule of ['gap', 'overlap', 'vacant_post']) {
      assert.ok(await page.locator(`#audit details[data-rule="${rule}"]`).count() === 1, `no ${rule} group`);
    }
    const gapCodes = await page.locator('#audit details[data-rule="gap"] a.finding').allTextContents();
    assert.ok(gapCodes.some((c) => c.includes('410103001001001') && c.includes('410103001001002')), `gaps: ${gapCodes}`);
    const vacant = await page.locator('#audit details[data-rule="vacant_post"] a.finding').allTextContents();
    assert.ok(vacant.some((c) => c.includes('410103001001002')), `vacancies: ${vacant}`);
  });

  await t.test('gaps are drawn hatched and overlaps in a second colour', async () => {
    await idle();
    const drawn = await page.evaluate(() => {
      const m = window.gridlineMap;
      const q = (id) => m.queryRenderedFeatures({ layers: [id] }).map((f) => f.properties.rule);
      return { gap: q('audit-gap'), overlap: q('audit-overlap'), pattern: m.getPaintProperty('audit-gap', 'fill-pattern'),
        overlapColor: m.getPaintProperty('audit-overlap', 'fill-color'), hatch: m.hasImage('audit-hatch') };
    });
    assert.ok(drawn.gap.length > 0 && drawn.gap.every((r) => r === 'gap'), `gap features drawn: ${drawn.gap}`);
    assert.ok(drawn.overlap.length > 0 && drawn.overlap.every((r) => r === 'overlap'), `overlap features drawn: ${drawn.overlap}`);
    assert.equal(drawn.pattern, 'audit-hatch');
    assert.ok(drawn.hatch, 'the hatch pattern image is on the map');
    assert.notEqual(drawn.overlapColor, undefined);
  });

  await t.test('clicking a gap flies to it and names the grids around it', async () => {
    // Start away from it, zoomed in elsewhere.
    await page.evaluate(() => new Promise((ok) => { window.gridlineMap.once('moveend', () => ok()); window.gridlineMap.jumpTo({ center: [113.635, 34.735], zoom: 16 }); }));
    await page.evaluate(() => new Promise((ok) => {
      window.gridlineMap.once('moveend', () => ok());
      document.querySelector('#audit details[data-rule="gap"] a.finding').click();
    }));
    await idle();
    const after = await page.evaluate(() => ({ b: window.gridlineMap.getBounds().toArray(), c: window.gridlineMap.getCenter() }));
    // The gap lies at x 113.61..113.6105, y 34.70..34.72: all of it in view, and at the centre.
    const [[w, s], [e, n]] = after.b;
    assert.ok(w < 113.61 && e > 113.6105 && s < 34.70 && n > 34.72, `view ${JSON.stringify(after.b)} does not show the whole gap`);
    assert.ok(Math.abs(after.c.lng - 113.61025) < 0.002 && Math.abs(after.c.lat - 34.71) < 0.002, `centre ${JSON.stringify(after.c)}`);
    assert.equal(await page.locator('#card h2.audit-title').textContent(), '缝隙');
    const around = await page.locator('#card .audit-around a').allTextContents();
    assert.ok(around.includes('410103001001001') && around.includes('410103001001002'), `around: ${around}`);
    const focus = await page.evaluate(() => window.gridlineMap.queryRenderedFeatures({ layers: ['audit-focus'] }).length);
    assert.ok(focus > 0, 'the finding is outlined');
    await page.screenshot({ path: join(artifacts, 'audit-panel.png') });
    // A grid around it opens its card.
    await page.locator('#card .audit-around a', { hasText: '410103001001002' }).click();
    await page.locator('#card h2[data-code="410103001001002"]').waitFor();
  });

  assert.deepEqual(problems, []);
});
