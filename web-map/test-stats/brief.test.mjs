// The printed monthly brief (issue #16): GET /v1/stats/brief.pdf of two months, its pages rendered
// to PNG by poppler's pdftoppm into test-artifacts/ and looked at (page count, A4 size, not
// blank, charts drawn); and brief.html opened in Chromium: no request leaves the page, no error,
// every chart drawn, a screenshot of its first page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { base, token, skip, launch, watch, artifacts } from '../test-console/common.mjs';

const months = process.env.GRIDLINE_BRIEF_MONTHS || '';
let browser;
after(async () => { await browser?.close(); });
before(async () => { if (!skip) browser = await launch(); });

// ppm reads a binary PPM (P6) as pdftoppm writes it.
function ppm(buf) {
  const head = [];
  let i = 0;
  while (head.length < 4) {
    while (/\s/.test(String.fromCharCode(buf[i]))) i++;
    let s = '';
    while (!/\s/.test(String.fromCharCode(buf[i]))) s += String.fromCharCode(buf[i++]);
    head.push(s);
  }
  const [magic, w, h] = head;
  assert.equal(magic, 'P6');
  return { width: Number(w), height: Number(h), data: buf.subarray(i + 1) };
}

// look says how much of an image is ink (not near white) and how much is colour (the charts' bars).
function look(img) {
  let ink = 0; let colour = 0; const n = img.width * img.height;
  for (let p = 0; p < n; p++) {
    const r = img.data[3 * p]; const g = img.data[3 * p + 1]; const b = img.data[3 * p + 2];
    if (r < 200 || g < 200 || b < 200) ink++;
    if (Math.max(r, g, b) - Math.min(r, g, b) > 80) colour++;
  }
  return { ink: ink / n, colour: colour / n };
}

test('the printed monthly brief: pages rendered and looked at', { skip }, async (t) => {
  const want = months.split(',').length;
  const res = await fetch(`${base}/v1/stats/brief.pdf?month=${months}`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, await res.clone().text().catch(() => ''));
  const pdf = Buffer.from(await res.arrayBuffer());
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  const file = join(artifacts, 'stats-brief.pdf');
  writeFileSync(file, pdf);
  for (const f of readdirSync(artifacts)) if (/^stats-brief-page-\d+\.(png|ppm)$/.test(f)) rmSync(join(artifacts, f));

  await t.test('one A4 page per month, each with its tables and charts', () => {
    execFileSync('pdftoppm', ['-r', '50', '-png', file, join(artifacts, 'stats-brief-page')]);
    execFileSync('pdftoppm', ['-r', '50', file, join(artifacts, 'stats-brief-page')]);
    const pngs = readdirSync(artifacts).filter((f) => /^stats-brief-page-\d+\.png$/.test(f)).sort();
    const ppms = readdirSync(artifacts).filter((f) => /^stats-brief-page-\d+\.ppm$/.test(f)).sort();
    assert.equal(pngs.length, want, `${pngs.length} pages, want ${want} (${months})`);
    for (const f of ppms) {
      const img = ppm(readFileSync(join(artifacts, f)));
      // A4 at 50 dpi: 8.27 × 11.69 in = 413 × 585 pixels.
      assert.ok(Math.abs(img.width - 413) <= 2 && Math.abs(img.height - 585) <= 2, `${f}: ${img.width}×${img.height}, want A4`);
      const l = look(img);
      assert.ok(l.ink > 0.02, `${f} is nearly blank (${(l.ink * 100).toFixed(1)}% ink)`);
      assert.ok(l.colour > 0.001, `${f} has no coloured charts (${(l.colour * 100).toFixed(2)}% colour)`);
      rmSync(join(artifacts, f));
    }
  });

  await t.test('brief.html opens with no network, draws every chart, and prints as it shows', async () => {
    const problems = [];
    const ctx = await browser.newContext({ viewport: { width: 900, height: 1200 }, extraHTTPHeaders: { Authorization: `Bearer ${token}` } });
    const page = await ctx.newPage();
    await watch(ctx, page, problems);
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${base}/v1/stats/brief.html?month=${months}`);
    await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 15000 });
    assert.equal(await page.evaluate(() => document.body.dataset.error || ''), '');
    assert.deepEqual(requests.filter((u) => !u.includes('/v1/stats/brief.html')), [], 'the brief loads nothing more');
    assert.equal(await page.locator('section.page').count(), want);
    // Every chart has drawn something: its canvas is not one colour.
    const drawn = await page.$$eval('canvas[data-chart]', (cs) => cs.map((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4 * 13) if (d[i] > 0) n++;
      return n;
    }));
    assert.equal(drawn.length, 2 * want);
    assert.ok(drawn.every((n) => n > 100), `charts drawn: ${drawn}`);
    await page.locator('section.page').first().screenshot({ path: join(artifacts, 'stats-brief-html.png') });
    assert.deepEqual(problems, []);
    await ctx.close();
  });
});
