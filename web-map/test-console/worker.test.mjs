// The grid worker's phone page (issue #16) in Chromium with a phone's viewport (390x844, touch)
// against the real gridline: sign in, my grid drawn, my cases by due time; sign for a dispatched
// case and report back with a photo (checked through the API here and by the Go test); a new find
// at the phone's position (WGS84), self-handled on the spot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { base, skip, launch, watch, api, signIn, artifacts } from './common.mjs';

const caseID = Number(process.env.GRIDLINE_WORKER_CASE || 0);
const photo = process.env.GRIDLINE_PHOTO;
let browser, ctx, page;
const problems = [];
let bytes = 0;
const files = [];

before(async () => {
  if (skip) return;
  browser = await launch();
  ctx = await browser.newContext({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
    geolocation: { longitude: 113.6032, latitude: 34.7152, accuracy: 8 }, permissions: ['geolocation'],
  });
  page = await ctx.newPage();
  await watch(ctx, page, problems);
  page.on('response', async (r) => {
    if (!r.url().startsWith(base) || r.url().includes('/v1/')) return;
    files.push(r.url().slice(base.length));
    const h = await r.allHeaders();
    bytes += Number(h['content-length'] || 0);
  });
});

after(async () => { await browser?.close(); });

test('the phone page: a worker signs for a case and reports back with a photo', { skip }, async (t) => {
  await page.goto(base + '/m');
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 30000 });

  await t.test('a small page: no map library, little to download', () => {
    assert.ok(!files.some((f) => f.includes('maplibre')), `the phone page loaded MapLibre: ${files}`);
    assert.ok(bytes < 100 * 1024, `the phone page's files are ${bytes} bytes: ${files}`);
  });

  await signIn(page, 'worker7');
  await page.waitForFunction(() => document.body.dataset.workerReady === '1', null, { timeout: 30000 });

  await t.test('my grid is drawn and my cases are listed', async () => {
    assert.ok(await page.locator('#grids polygon').count() >= 1, 'no grid drawn');
    await page.locator(`#cases li[data-id="${caseID}"]`).waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page is ${width} px wide on a 390 px phone`);
  });

  const li = page.locator(`#cases li[data-id="${caseID}"]`);
  await t.test('sign for it', async () => {
    await li.locator('button.sign').click();
    await page.locator(`#cases li[data-id="${caseID}"][data-state="signed_for"]`).waitFor({ timeout: 15000 });
    assert.equal((await api('GET', `/v1/cases/${caseID}`)).state, 'signed_for');
  });

  await t.test('report back with a photo', async () => {
    assert.equal(await li.locator('input[type=file]').getAttribute('capture'), 'environment');
    await li.locator('input[name=note]').fill('已拆除');
    await li.locator('input[type=file]').setInputFiles(photo);
    await li.locator('form.back button[type=submit]').click();
    await page.locator(`#cases li[data-id="${caseID}"][data-state="reported_back"]`).waitFor({ timeout: 15000 });
    const c = await api('GET', `/v1/cases/${caseID}`);
    assert.equal(c.state, 'reported_back');
    assert.equal(c.attachments.length, 1);
    assert.equal(c.attachments[0].content_type, 'image/png');
    assert.equal(c.events.at(-1).actor_name, 'worker7');
    await page.screenshot({ path: join(artifacts, 'worker-phone.png'), fullPage: true });
  });

  await t.test('no errors', () => { assert.deepEqual(problems, []); });
});

test("the phone page: a new find at the phone's position, self-handled", { skip }, async () => {
  await page.locator('#find-category').fill('0101 私搭乱建');
  await page.locator('#find-description').fill('路边堆物已清理');
  await page.locator('#find-gps').click();
  await page.locator('#find-point').filter({ hasText: 'WGS84' }).waitFor({ timeout: 15000 });
  await page.locator('#find-photo').setInputFiles(photo);
  await page.locator('#find-self').check();
  await page.locator('#find button[type=submit]').click();
  await page.locator('#find-msg.ok').waitFor({ timeout: 15000 });
  const number = (await page.locator('#find-msg').innerText()).split(': ')[1].split(' ')[0];
  const list = await api('GET', '/v1/cases?state=closed&limit=50');
  const c = list.cases.find((x) => x.number === number);
  assert.ok(c, `the self-handled case ${number} is not closed`);
  assert.equal(c.source, 'patrol');
  assert.ok(Math.abs(c.lon - 113.6032) < 1e-9 && Math.abs(c.lat - 34.7152) < 1e-9, `stored at ${c.lon},${c.lat}: the GPS point is WGS84 and must not move`);
  const full = await api('GET', `/v1/cases/${c.id}`);
  assert.equal(full.attachments.length, 1);
  assert.equal(full.attachments[0].kind, 'after');
  assert.deepEqual(problems, []);
});
