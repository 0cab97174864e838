// Browser test of editing grids (issue #14): playwright-core drives the system Chromium with the
// mouse against the whole gridline program serving the fixture district
// (cmd/gridline/editmap_test.go starts it with a planner and a reviewer of the community
// 410103001001 and sets GRIDLINE_BASE_URL). Every edit is checked through the drafts API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { artifacts, desktop, launch, mapIdle, skipUnless, watch } from '../test-lib/browser.mjs';

const base = process.env.GRIDLINE_BASE_URL;
const password = process.env.GRIDLINE_PASSWORD;
const skip = skipUnless('GRIDLINE_BASE_URL', 'go test ./cmd/gridline -run EditMap');

let browser, page;
const problems = [];
// expectErrors is set while a test provokes refusals on purpose.
let expectErrors = false;

before(async () => {
  if (skip) return;
  browser = await launch();
  const ctx = await browser.newContext(desktop());
  page = await ctx.newPage();
  page.on('response', (r) => { if (r.status() >= 400 && !expectErrors) problems.push(`${r.status()} ${r.url()}`); });
  await watch(ctx, page, problems, { offline: base, quiet: () => expectErrors });
});

after(async () => { await browser?.close(); });

const idle = () => mapIdle(page);

// jump moves the map and waits for it to be drawn.
const jump = (opts) => page.evaluate((o) => new Promise((ok) => {
  const m = window.gridlineMap;
  m.once('idle', () => ok());
  m.jumpTo(o);
  m.triggerRepaint();
}), opts);

// px is the page position of lon, lat.
async function px(lon, lat) {
  const pt = await page.evaluate(([x, y]) => window.gridlineMap.project([x, y]), [lon, lat]);
  const box = await page.locator('#map canvas').boundingBox();
  return { x: box.x + pt.x, y: box.y + pt.y };
}

async function clickAt(lon, lat) {
  const p = await px(lon, lat);
  await page.mouse.click(p.x, p.y);
}

// api asks the server with the page's session.
const api = (path) => page.evaluate(async (p) => {
  const r = await fetch(p, { headers: { Accept: 'application/json' } });
  return { status: r.status, body: await r.json() };
}, path);

async function signIn(name) {
  if (await page.locator('#sign-out').count()) {
    await page.locator('#sign-out').click();
    await page.locator('#sign-in').waitFor();
  }
  await page.locator('#sign-in input[name=username]').fill(name);
  await page.locator('#sign-in input[name=password]').fill(password);
  await page.locator('#sign-in button[type=submit]').click();
  await page.locator('#account-name', { hasText: name }).waitFor();
}

// revision waits for the open draft to reach revision n with no request under way.
async function revision(n) {
  await page.waitForFunction((r) => {
    const el = document.querySelector('#edit-draft');
    return el && el.dataset.revision === String(r) && el.dataset.busy !== '1';
  }, n, { timeout: 30000 }).catch(async (err) => {
    const msg = await page.locator('#edit-error').textContent().catch(() => '');
    throw new Error(`revision ${n} not reached: ${msg || err.message}`);
  });
}

// nextRevision waits for the open draft to move on from revision prev, and returns the new one.
async function nextRevision(prev) {
  await page.waitForFunction((r) => {
    const el = document.querySelector('#edit-draft');
    return el && el.dataset.revision !== String(r) && el.dataset.busy !== '1';
  }, prev, { timeout: 30000 }).catch(async (err) => {
    const msg = await page.locator('#edit-error').textContent().catch(() => '');
    throw new Error(`no revision after ${prev}: ${msg || err.message}`);
  });
  return Number(await page.locator('#edit-draft').getAttribute('data-revision'));
}

const state = (s) => page.waitForFunction((x) => document.querySelector('#edit-draft')?.dataset.state === x, s, { timeout: 30000 })
  .catch(async (err) => { throw new Error(`state ${s} not reached: ${(await page.locator('#edit-error').textContent().catch(() => '')) || err.message}`); });

const byCode = (d) => Object.fromEntries(d.changes.map((c) => [c.code, c]));
const COVERAGE = ['gap', 'overlap', 'sliver', 'outside_parent', 'invalid_geometry'];

test('a planner redraws grids on the map; a reviewer returns, then approves; the tiles show it', { skip }, async (t) => {
  await page.goto(base + '/');
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 30000 });
  await idle();
  assert.equal(await page.locator('#edit').isHidden(), true, 'no edit panel for anonymous viewers');

  let id;
  let date;
  await t.test('signed in as a planner: a new draft for the community loads its neighbourhood', async () => {
    await signIn('planner');
    assert.equal(await page.locator('#edit-title').textContent(), '编辑网格');
    await page.locator('#edit-new input[name=scope]').fill('410103001001');
    await page.locator('#edit-new input[name=title]').fill('淮北街社区网格调整');
    await page.locator('#edit-new button[type=submit]').click();
    await page.locator('#edit-draft').waitFor();
    id = await page.locator('#edit-draft').getAttribute('data-id');
    assert.equal(await page.locator('#edit-state').textContent(), '草稿');
    await page.waitForFunction(() => window.gridlineEdit.nb.features.length > 0 && window.gridlineEdit.inner.length > 0);
    const roles = await page.evaluate(() => window.gridlineEdit.nb.features.map((f) => `${f.properties.role}:${f.properties.code}`));
    assert.ok(roles.includes('parent:410103001001') && roles.includes('child:410103001001001') && roles.includes('child:410103001001002'), `neighbourhood: ${roles}`);
    // The map in the middle of the community, clear of the panels.
    await jump({ center: [113.612, 34.71], zoom: 15 });
  });

  await t.test('split: drawing a line across a grid makes two grids covering exactly the old one', async () => {
    await clickAt(113.617, 34.715); // pick grid 8
    await page.locator('#edit-picked', { hasText: '410103001001002' }).waitFor();
    await page.locator('[data-tool=split]').click();
    await clickAt(113.6085, 34.705);
    await page.waitForTimeout(150);
    await clickAt(113.6215, 34.705);
    await page.waitForTimeout(150);
    await clickAt(113.6215, 34.705); // the last point again: finished
    await revision(1);
    const { body: d } = await api(`/v1/drafts/${id}`);
    const c = byCode(d);
    const fresh = d.changes.filter((x) => x.status === 'new');
    assert.equal(fresh.length, 1, `changes ${JSON.stringify(d.changes.map((x) => [x.code, x.status]))}`);
    assert.ok(fresh[0].id < 0 && fresh[0].code === '410103001001003', `new grid ${fresh[0].id} ${fresh[0].code}`);
    const old = c['410103001001002'];
    assert.equal(old.status, 'changed');
    const sum = old.after.area_m2 + fresh[0].after.area_m2;
    assert.ok(Math.abs(sum - old.before.area_m2) < 1, `pieces ${old.after.area_m2} + ${fresh[0].after.area_m2} = ${sum} m², the old grid ${old.before.area_m2} m²`);
    assert.ok(old.after.area_m2 > 1000 && fresh[0].after.area_m2 > 1000, 'two real pieces');
    // Households split with the area.
    assert.equal(old.after.households + fresh[0].after.households, old.before.households);
    // The pieces leave no gap or overlap: the neighbourhood's children still tile the community.
    const bad = d.problems.filter((p) => p.kind === 'rule' || COVERAGE.includes(p.rule));
    assert.deepEqual(bad, []);
    // The table of changes lists both.
    await page.locator('table.edit-changes tr[data-code="410103001001003"][data-status="new"]').waitFor();
  });

  await t.test('a split line that does not cut the grid is refused and writes nothing', async () => {
    expectErrors = true;
    await clickAt(113.615, 34.7025); // pick the new southern piece
    await page.locator('#edit-picked', { hasText: '410103001001003' }).waitFor();
    await page.locator('[data-tool=split]').click();
    await clickAt(113.613, 34.7025);
    await page.waitForTimeout(150);
    await clickAt(113.617, 34.7025);
    await page.waitForTimeout(150);
    await clickAt(113.617, 34.7025);
    await page.locator('#edit-error').waitFor();
    expectErrors = false;
    assert.equal(await page.locator('#edit-draft').getAttribute('data-revision'), '1');
    const { body: d } = await api(`/v1/drafts/${id}`);
    assert.equal(d.revision, 1);
    assert.equal(d.changes.filter((x) => x.status === 'new').length, 1);
    await page.locator('[data-tool=pick]').click();
    await clickAt(113.615, 34.7025); // unpick
  });

  await t.test('reshape: a vertex added on the shared edge and dragged moves both neighbours, with no coverage problem', async () => {
    await page.locator('[data-tool=reshape]').click();
    // A click on the edge between grids 7 and 8 snaps to the micro grids' corner on it.
    await clickAt(113.61, 34.71);
    await revision(2);
    let { body: d } = await api(`/v1/drafts/${id}`);
    const g7 = await page.evaluate(() => JSON.stringify(window.gridlineEdit.nb.features.find((f) => f.properties.code === '410103001001001').geometry));
    assert.ok(g7.includes('113.61,34.71'), `the vertex was not inserted at the micro grids' corner: ${g7}`);
    await idle();
    const from = await px(113.61, 34.71);
    const to = await px(113.612, 34.7105);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 8 });
    await page.mouse.up();
    await revision(3);
    ({ body: d } = await api(`/v1/drafts/${id}`));
    const c = byCode(d);
    for (const code of ['410103001001001', '410103001001002', '410103001001001001', '410103001001001002']) {
      assert.ok(c[code] && c[code].status !== 'unchanged', `${code} did not change: ${Object.keys(c)}`);
    }
    assert.ok(c['410103001001001'].after.area_m2 > c['410103001001001'].before.area_m2 + 1000, 'grid 7 grew');
    const bad = d.problems.filter((p) => p.kind === 'rule' || COVERAGE.includes(p.rule));
    assert.deepEqual(bad, [], 'coverage problems after moving a shared vertex');
    // Both neighbours have the moved vertex, at the same place.
    const { body: nb } = await api(`/v1/drafts/${id}/neighbourhood?parent=410103001001`);
    const moved = nb.features.filter((f) => ['410103001001001', '410103001001002'].includes(f.properties.code))
      .map((f) => JSON.stringify(f.geometry.coordinates));
    const vtx = /\[113\.61[12]\d*,34\.710\d*\]/.exec(moved[0]);
    assert.ok(vtx && moved[1].includes(vtx[0]), `the two grids do not share the moved vertex: ${moved}`);
  });

  await t.test('merge two grids, then undo it on the server', async () => {
    await page.locator('[data-tool=pick]').click();
    await clickAt(113.604, 34.716); // grid 7
    await clickAt(113.618, 34.716); // grid 8 (the northern piece)
    await page.locator('[data-tool=merge]').click();
    await page.locator('#edit-keep').selectOption({ label: '410103001001001' });
    await page.locator('#edit-merge').click();
    await revision(4);
    let { body: d } = await api(`/v1/drafts/${id}`);
    let c = byCode(d);
    assert.equal(c['410103001001002']?.status, 'retired', JSON.stringify(d.changes.map((x) => [x.code, x.status])));
    assert.equal(c['410103001001001'].status, 'changed');
    await page.locator('#edit-undo').click();
    await revision(3);
    ({ body: d } = await api(`/v1/drafts/${id}`));
    c = byCode(d);
    assert.equal(c['410103001001002'].status, 'changed', 'undo brought grid 8 back');
    assert.equal(d.can_redo, true);
  });

  await t.test('draw a new grid out of a neighbour\'s area (terra-draw polygon), then undo it', async () => {
    const before7 = byCode((await api(`/v1/drafts/${id}`)).body)['410103001001001'].after.area_m2;
    await page.locator('[data-tool=draw]').click();
    await page.locator('#edit-new-name').fill('新绘网格');
    await page.locator('#edit-take').check();
    const square = [[113.601, 34.712], [113.6035, 34.712], [113.6035, 34.7145], [113.601, 34.7145]];
    for (const [x, y] of square) { await clickAt(x, y); await page.waitForTimeout(150); }
    await clickAt(...square[0]); // closes the polygon
    const r = await nextRevision(3);
    let { body: d } = await api(`/v1/drafts/${id}`);
    const drawn = d.changes.find((x) => x.status === 'new' && x.after?.name === '新绘网格');
    assert.ok(drawn, `no new grid: ${JSON.stringify(d.changes.map((x) => [x.code, x.status, x.after?.name]))}`);
    // About 230 m x 280 m, taken from grid 7.
    assert.ok(drawn.after.area_m2 > 50000 && drawn.after.area_m2 < 80000, `area ${drawn.after.area_m2}`);
    const g7 = byCode(d)['410103001001001'];
    assert.ok(Math.abs(g7.after.area_m2 + drawn.after.area_m2 - before7) < 1, `grid 7 ${g7.after.area_m2} + ${drawn.after.area_m2} != ${before7}`);
    await page.locator('#edit-undo').click();
    await nextRevision(r);
    ({ body: d } = await api(`/v1/drafts/${id}`));
    assert.equal(d.changes.some((x) => x.after?.name === '新绘网格'), false);
  });

  await t.test('attributes: households and four bounds of a grid', async () => {
    await page.locator('[data-tool=pick]').click();
    await clickAt(113.615, 34.7025);
    await page.locator('[data-tool=attributes]').click();
    const prev = Number(await page.locator('#edit-draft').getAttribute('data-revision'));
    await page.locator('#edit-attrs input[name=households]').fill('120');
    await page.locator('#edit-attrs input[name=north]').fill('淮北街社区第2网格');
    await page.locator('#edit-attrs button[type=submit]').click();
    await nextRevision(prev);
    const { body: d } = await api(`/v1/drafts/${id}`);
    const g = byCode(d)['410103001001003'];
    assert.equal(g.after.households, 120);
    assert.equal(g.after.four_bounds?.north, '淮北街社区第2网格');
  });

  await t.test('problems are listed and drawn; submitting acknowledges the coverage findings', async () => {
    const { body: d } = await api(`/v1/drafts/${id}`);
    await idle();
    const drawn = await page.evaluate(() => window.gridlineMap.queryRenderedFeatures({ layers: ['edit-problem-fill', 'edit-problem-line', 'edit-problem-point'] }).map((f) => f.properties.rule));
    const placed = d.problems.filter((p) => p.geometry).map((p) => p.rule);
    assert.ok(placed.length > 0, 'the draft has problems with a place (the workload of the new small grid)');
    assert.ok(placed.every((r) => drawn.includes(r)), `problems ${placed} drawn as ${drawn}`);
    assert.equal(await page.locator('#edit-problems li').count(), d.problems.length);
    for (const box of await page.locator('.edit-ack').all()) await box.check();
    await page.locator('#edit-submit').click();
    await state('submitted');
    await page.screenshot({ path: join(artifacts, 'edit-submitted.png') });
  });

  await t.test('signed in as a reviewer: the queue, the before/after view, return with a comment', async () => {
    await signIn('reviewer');
    await page.locator(`#review-queue a[data-open="${id}"]`).click();
    await state('submitted');
    await page.waitForFunction(() => document.querySelector('#edit-draft')?.dataset.beforeAfter);
    assert.equal(await page.locator('#edit-before-after').isChecked(), true);
    await idle();
    const lines = await page.evaluate(() => ({
      before: window.gridlineMap.queryRenderedFeatures({ layers: ['edit-before-line'] }).length,
      after: window.gridlineMap.queryRenderedFeatures({ layers: ['edit-after-line'] }).map((f) => f.properties.code),
    }));
    assert.ok(lines.before > 0, 'old boundaries drawn');
    assert.ok(lines.after.includes('410103001001003'), `new boundaries drawn: ${lines.after}`);
    assert.equal(await page.locator('[data-tool]').count(), 0, 'a reviewer has no editing tools');
    await page.screenshot({ path: join(artifacts, 'edit-review.png') });
    await page.locator('#edit-comment').fill('南边界请沿新路');
    await page.locator('#edit-return').click();
    await state('returned');
  });

  await t.test('returned with a comment, the planner sees it and submits again; the reviewer approves', async () => {
    await signIn('planner');
    await page.locator(`#edit-drafts a[data-open="${id}"]`).click();
    await state('returned');
    await page.locator('.edit-comments', { hasText: '南边界请沿新路' }).waitFor();
    assert.ok(await page.locator('[data-tool=reshape]').count() === 1, 'a returned draft is editable again');
    for (const box of await page.locator('.edit-ack').all()) await box.check();
    await page.locator('#edit-submit').click();
    await state('submitted');
    await signIn('reviewer');
    await page.locator(`#review-queue a[data-open="${id}"]`).click();
    await state('submitted');
    await page.locator('#edit-comment').fill('同意，按新路调整');
    await page.locator('#edit-approve').click();
    await state('approved');
  });

  await t.test('the planner publishes; the tiles of the effective date show the new grid', async () => {
    await signIn('planner');
    await page.locator(`#edit-drafts a[data-open="${id}"]`).click();
    await state('approved');
    await page.locator('#edit-publish').click();
    await state('published');
    const { body: d } = await api(`/v1/drafts/${id}`);
    date = d.effective_date;
    await page.locator('#edit-map-date', { hasText: date }).waitFor();
    const g = await api(`/v1/grids/410103001001003?at=${date}`);
    assert.equal(g.status, 200, JSON.stringify(g.body));
    await page.locator('#edit-close').click();
    await jump({ center: [113.612, 34.71], zoom: 15 });
    await page.waitForFunction(() => window.gridlineMap.queryRenderedFeatures({ layers: ['grids-fill'] }).some((f) => f.properties.code === '410103001001003'), null, { timeout: 30000 })
      .catch(async () => {
        const codes = await page.evaluate(() => window.gridlineMap.queryRenderedFeatures({ layers: ['grids-fill'] }).map((f) => f.properties.code));
        throw new Error(`the new grid is not in the tiles of ${date}: ${codes}`);
      });
    await page.screenshot({ path: join(artifacts, 'edit-published.png') });
  });

  assert.deepEqual(problems, []);
});
