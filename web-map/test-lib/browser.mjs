// What every browser test of the web map shares: Debian's Chromium driven by playwright-core
// against a gridline a Go test in cmd/gridline started (it sets the server's URL, CHROMIUM and
// GRIDLINE_ARTIFACTS; see runBrowserTests in cmd/gridline/map_test.go). Not a test file itself:
// node --test finds none here.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const chromium = process.env.CHROMIUM || '/usr/bin/chromium';

// artifacts is where screenshots go (made by launch).
export const artifacts = process.env.GRIDLINE_ARTIFACTS || resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-artifacts');

// skipUnless is why a browser test cannot run (false when it can): the server's URL is not in
// the environment variable env (the hint says which go test sets it), or there is no Chromium.
export function skipUnless(env, hint) {
  if (!process.env[env]) return `${env} is not set (run it from ${hint})`;
  if (!existsSync(chromium)) return `no Chromium at ${chromium}`;
  return false;
}

// launch starts a headless Chromium that draws WebGL in software (swiftshader).
export async function launch() {
  mkdirSync(artifacts, { recursive: true });
  const { chromium: pw } = await import('playwright-core');
  return pw.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
      '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync',
      '--disable-default-apps', '--disable-dev-shm-usage'],
  });
}

// desktop is the browser context every desktop page test uses, with options added or changed.
export const desktop = (more = {}) => ({ viewport: { width: 1400, height: 900 }, locale: 'zh-CN', ...more });

// watch pushes onto problems the page's console errors (unless quiet() says they are expected)
// and uncaught errors, and, when offline names the server's URL, aborts and reports every
// request that leaves it (the map works offline). It resolves when the route is set.
export async function watch(ctx, page, problems, { offline, quiet = () => false } = {}) {
  page.on('console', (m) => { if (m.type() === 'error' && !quiet()) problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  if (offline) {
    await ctx.route((u) => !u.href.startsWith(offline) && !u.href.startsWith('data:') && !u.href.startsWith('blob:'), (r) => {
      problems.push(`external request: ${r.request().url()}`);
      return r.abort();
    });
  }
}

// mapIdle waits until the page's map (window.gridlineMap) has drawn everything it asked for.
export const mapIdle = (page) => page.evaluate(() => new Promise((ok) => {
  const m = window.gridlineMap;
  if (m.loaded() && !m.isMoving() && m.areTilesLoaded()) { ok(); return; }
  m.once('idle', () => ok());
}));
