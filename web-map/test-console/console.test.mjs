// The dispatcher's console (issue #16) in Chromium against the real gridline and PostGIS
// (cmd/gridline/consolemap_test.go starts it on a fake clock): a case created through the API
// while the console is open appears without a reload, is filed and dispatched from its card, turns
// red when the page's clock passes its due time (the console's own timer), and turns red when the
// server's clock does (the escalation sweeper marks the step, the live stream tells the page).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { base, skip, launch, watch, api, signIn, artifacts, serverClock } from './common.mjs';

let browser, page;
const problems = [];

before(async () => {
  if (skip) return;
  browser = await launch();
  const ctx = await browser.newContext({ viewport: { width: 1500, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  page = await ctx.newPage();
  await watch(ctx, page, problems);
});

after(async () => { await browser?.close(); });

test("a case arrives live, is dispatched from its card and turns red on the page's clock and on the server's", { skip }, async (t) => {
  await page.goto(base + '/console');
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 30000 });
  await signIn(page, 'dispatcher');
  await page.waitForFunction(() => document.body.dataset.consoleReady === '1', null, { timeout: 30000 });
  await page.locator('#live.on').waitFor({ timeout: 15000 });
  const before = await page.locator('#queue li[data-id]').count();

  const made = await api('POST', '/v1/cases', { source: 'hotline', category_code: '0101', urgency: 'normal', description: '控制台实时测试', lon: 113.6031, lat: 34.7151, crs: 'wgs84' });
  const id = made.case.id;
  const row = page.locator(`#queue li[data-id="${id}"]`);

  await t.test('it appears in the queue and on the map without a reload', async () => {
    await row.waitFor({ timeout: 15000 });
    assert.equal(await page.locator('#queue li[data-id]').count(), before + 1);
    const onMap = await page.evaluate((id) => window.gridlineMap.getSource('cases').serialize().data.features.some((f) => f.properties.id === id), id);
    assert.ok(onMap, 'the case is in the map source');
  });

  await t.test('its card shows what, where, the routing and the timeline', async () => {
    await row.click();
    await page.locator('#card-number').filter({ hasText: made.case.number }).waitFor();
    const text = await page.locator('#card').innerText();
    for (const want of ['控制台实时测试', '派遣依据', '处置过程', '建议派遣']) assert.ok(text.includes(want), `the card lacks ${want}: ${text}`);
    assert.equal(await page.locator('#card-state').getAttribute('data-state'), 'reported');
  });

  await t.test('filed and dispatched to the suggested party from the card', async () => {
    await page.locator('#actions button[data-kind="file"]').click();
    await page.locator('#card-state[data-state="filed"]').waitFor({ timeout: 15000 });
    await page.locator('#dispatch-suggested').click();
    await page.locator('#card-state[data-state="dispatched"]').waitFor({ timeout: 15000 });
    const c = await api('GET', `/v1/cases/${id}`);
    assert.equal(c.state, 'dispatched');
    assert.deepEqual(c.events.map((e) => e.kind), ['report', 'file', 'dispatch']);
    assert.equal(c.events[2].actor_name, 'dispatcher');
    assert.ok(c.party, 'dispatched to a party');
  });

  await t.test('a stale card is refused with a clear message (409)', async () => {
    // Someone else supervises the case behind the card's back; the card's version is then old.
    const stale = await page.evaluate(() => document.querySelector('#card-state').dataset.state);
    assert.equal(stale, 'dispatched');
    await page.evaluate(() => window.gridlineConsole.pauseStream = true);
    const c = await api('GET', `/v1/cases/${id}`);
    await api('POST', `/v1/cases/${id}/events`, { kind: 'co_handle', departments: ['chengguan'], expect_version: c.version });
    await page.locator('#reason').fill('请尽快处置');
    await page.locator('#actions button[data-kind="supervise"]').click();
    await page.locator('#card-msg').filter({ hasText: '他人更改' }).waitFor({ timeout: 15000 });
    await page.evaluate(() => window.gridlineConsole.pauseStream = false);
  });

  await t.test('hotline intake: a point on the map, a category from the catalogue, duplicates shown before filing', async () => {
    await page.locator('#intake-open').click();
    await page.evaluate(() => window.gridlineMap.jumpTo({ center: [113.6031, 34.7151], zoom: 16 }));
    const box = await page.locator('#map canvas').boundingBox();
    const px = await page.evaluate(() => window.gridlineMap.project([113.6034, 34.7153]));
    await page.mouse.click(box.x + px.x, box.y + px.y);
    await page.locator('#intake-point').filter({ hasText: '113.60' }).waitFor();
    await page.locator('#intake-category').fill('0101 私搭乱建');
    await page.locator(`#intake-dups li[data-id="${id}"]`).waitFor({ timeout: 5000 });
    await page.locator('#intake-description').fill('来电反映同一处违建');
    await page.locator('#intake-reporter').fill('王先生');
    await page.locator('#intake button[type=submit]').click();
    await page.locator('#card-state[data-state="reported"]').waitFor({ timeout: 15000 });
    const number = (await page.locator('#card-number').innerText()).split(' ')[0];
    const list = await api('GET', '/v1/cases?state=reported&limit=50');
    const c = list.cases.find((x) => x.number === number);
    assert.ok(c, `the intake's case ${number} is not listed`);
    assert.equal(c.source, 'hotline');
    assert.equal(c.category_code, '0101');
    assert.equal(c.reporter.name, '王先生');

    // The state filter: only the reported case stays in the queue.
    await page.locator('#f-state').selectOption('reported');
    await page.locator(`#queue li[data-id="${id}"]`).waitFor({ state: 'detached' });
    await page.locator(`#queue li[data-id="${c.id}"]`).waitFor();
    await page.locator('#f-state').selectOption('');
    await row.waitFor();
  });

  const mapLight = () => page.evaluate((id) => window.gridlineMap.getSource('cases').serialize().data.features.find((f) => f.properties.id === id).properties.light, id);

  await t.test('it turns red when the page clock passes its due time', async () => {
    assert.equal(await row.getAttribute('data-light'), 'green');
    const due = await page.evaluate((id) => window.gridlineConsole.deadlines.get(id)?.due_at, id);
    assert.ok(due, 'the dispatched case has a due time');
    // The page's clock jumps past the due time; the console's own timer recolours the case.
    await page.evaluate((t) => { const off = t - Date.now(); const real = Date.now; window.realNow = real; Date.now = () => real() + off; }, Date.parse(due) + 60000);
    await page.locator(`#queue li[data-id="${id}"][data-light="red"]`).waitFor({ timeout: 15000 });
    assert.equal(await mapLight(), 'red');
    await row.click();
    await page.locator('#card-light[data-light="red"]').waitFor({ timeout: 15000 });
    // The page's clock back: the server, whose clock has not moved, still has the case on time.
    await page.evaluate(() => { Date.now = window.realNow; window.gridlineConsole.tick(); });
    await page.locator(`#queue li[data-id="${id}"][data-light="green"]`).waitFor({ timeout: 15000 });
  });

  await t.test("it turns red when the server's clock passes its due time: escalated, streamed, shown without a reload", async () => {
    await page.evaluate(() => { window.notReloaded = true; });
    const c = await api('GET', `/v1/cases/${id}`);
    const step = c.steps.find((s) => !s.ended_at && s.due_at);
    assert.ok(step, 'the dispatched case has an open step with a due time');
    assert.equal(c.light, 'green');
    // The server's clock passes the due time; the page's stays where it is. The sweeper
    // (--escalate-every 1s) does the yellow and red rungs, each a case event on the stream.
    await serverClock(new Date(Date.parse(step.due_at) + 60000));
    await page.locator(`#queue li[data-id="${id}"][data-light="red"]`).waitFor({ timeout: 20000 });
    assert.equal(await mapLight(), 'red');
    await page.locator('#card-light[data-light="red"]').waitFor({ timeout: 15000 });
    assert.ok(await page.evaluate(() => window.notReloaded), 'the page was not reloaded');
    assert.ok(await page.evaluate((due) => Date.now() < Date.parse(due), step.due_at), "the page's own clock has not reached the due time: the red is the server's");
    const after = await api('GET', `/v1/cases/${id}`);
    assert.equal(after.light, 'red');
    const open = after.steps.find((s) => s.id === step.id);
    assert.equal(open.notified_light, 'red', 'the sweeper marked the step red');
    const esc = after.events.filter((e) => e.kind === 'escalate' && e.actor_name === 'escalation');
    assert.deepEqual(esc.map((e) => e.data.light), ['yellow', 'red']);
    await page.screenshot({ path: join(artifacts, 'console.png') });
  });

  // The one 409 is the stale card's, on purpose (Chromium logs every failed request).
  await t.test('no errors', () => { assert.deepEqual(problems.filter((p) => !p.includes('status of 409')), []); });
});
