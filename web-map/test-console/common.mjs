// What the console's and the phone page's browser tests share: the server, the API, signing in
// (Chromium and the page's watch from test-lib/browser.mjs).
import { skipUnless, watch as watchAll } from '../test-lib/browser.mjs';

export { artifacts, launch } from '../test-lib/browser.mjs';

export const base = process.env.GRIDLINE_BASE_URL;
export const password = process.env.GRIDLINE_PASSWORD;
export const token = process.env.GRIDLINE_TOKEN;
export const skip = skipUnless('GRIDLINE_BASE_URL', 'go test ./cmd/gridline -run ConsoleMap');

// watch collects the page's errors and its requests that leave the server.
export const watch = (ctx, page, problems) => watchAll(ctx, page, problems, { offline: base });

// api calls gridline as the test's API client (a dispatcher's token), not as the page.
export async function api(method, path, body) {
  const res = await fetch(base + path, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const out = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(out)}`);
  return out;
}

// serverClock sets the clock of the server under test (a fake clock the Go test serves at
// GRIDLINE_CLOCK_URL) to the Date at.
export async function serverClock(at) {
  const res = await fetch(`${process.env.GRIDLINE_CLOCK_URL}?to=${encodeURIComponent(at.toISOString())}`, { method: 'POST' });
  if (!res.ok) throw new Error(`the server's clock: ${res.status} ${await res.text()}`);
}

export async function signIn(page, username) {
  await page.locator('#sign-in input[name=username]').fill(username);
  await page.locator('#sign-in input[name=password]').fill(password);
  await page.locator('#sign-in button[type=submit]').click();
}
