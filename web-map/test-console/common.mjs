// What the console's and the phone page's browser tests share: the server, Chromium, the API.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const base = process.env.GRIDLINE_BASE_URL;
export const password = process.env.GRIDLINE_PASSWORD;
export const token = process.env.GRIDLINE_TOKEN;
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
export const artifacts = process.env.GRIDLINE_ARTIFACTS || resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-artifacts');
export const skip = !base ? 'GRIDLINE_BASE_URL is not set (run it from go test ./cmd/gridline -run ConsoleMap)' : !existsSync(chromium) ? `no Chromium at ${chromium}` : false;

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

// watch collects the page's errors and failed or external requests.
export function watch(ctx, page, problems) {
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  return ctx.route((u) => !u.href.startsWith(base) && !u.href.startsWith('data:') && !u.href.startsWith('blob:'), (r) => {
    problems.push(`external request: ${r.request().url()}`);
    return r.abort();
  });
}

// api calls gridline as the test's API client (a dispatcher's token), not as the page.
export async function api(method, path, body) {
  const res = await fetch(base + path, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const out = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(out)}`);
  return out;
}

export async function signIn(page, username) {
  await page.locator('#sign-in input[name=username]').fill(username);
  await page.locator('#sign-in input[name=password]').fill(password);
  await page.locator('#sign-in button[type=submit]').click();
}
