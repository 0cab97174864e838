// Signing in and out on the map, who is signed in and what they may do, and what only some
// roles see: a grid's change history (audit.read). Anonymous viewing stays possible; writes send
// the session's CSRF token.
import { lang } from './i18n.js';

const words = {
  zh: {
    signIn: '登录', signOut: '退出', username: '用户名', password: '密码', signedInAs: '已登录',
    may: '权限', anonymous: '未登录（匿名浏览）', changes: '变更记录', noChanges: '无变更记录', by: '操作人',
    failed: '登录失败',
  },
  en: {
    signIn: 'Sign in', signOut: 'Sign out', username: 'Username', password: 'Password', signedInAs: 'Signed in as',
    may: 'May', anonymous: 'not signed in (anonymous viewing)', changes: 'Change history', noChanges: 'no changes recorded', by: 'by',
    failed: 'sign-in failed',
  },
};
const w = (k) => words[lang][k] ?? words.zh[k];
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

export const session = { signed_in: false, permissions: [] };
let changed = () => {};
let message = '';

export const can = (perm) => session.signed_in && session.permissions.includes(perm);

// write sends a change with the session's CSRF token.
export async function write(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (session.csrf_token) headers['X-CSRF-Token'] = session.csrf_token;
  if (body !== undefined && !(body instanceof FormData)) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body instanceof FormData ? body : body === undefined ? undefined : JSON.stringify(body) });
  let out = null;
  try { out = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) throw new Error(out?.error?.message || `HTTP ${res.status}`);
  return out;
}

function set(s) {
  Object.keys(session).forEach((k) => delete session[k]);
  Object.assign(session, { signed_in: false, permissions: [] }, s);
  render();
  changed();
}

export function render() {
  const el = document.querySelector('#account');
  if (!el) return;
  if (session.signed_in) {
    const roles = [...new Set((session.grants || []).map((g) => g.role))].join(', ');
    el.innerHTML = `<div class="who">${w('signedInAs')} <b id="account-name">${esc(session.username)}</b> <small>${esc(roles)}</small>
<button id="sign-out" type="button">${w('signOut')}</button></div>
<details><summary>${w('may')}</summary><small id="account-permissions">${esc(session.permissions.join(', '))}</small></details>`;
    el.querySelector('#sign-out').addEventListener('click', async () => {
      try { await write('DELETE', '/v1/session'); } catch { /* already ended */ }
      set({});
    });
    return;
  }
  el.innerHTML = `<form id="sign-in" autocomplete="on"><small class="muted">${w('anonymous')}</small>
<input name="username" autocomplete="username" placeholder="${w('username')}" required>
<input name="password" type="password" autocomplete="current-password" placeholder="${w('password')}" required>
<button type="submit">${w('signIn')}</button>${message ? `<p class="err" id="sign-in-error">${esc(message)}</p>` : ''}</form>`;
  el.querySelector('#sign-in').addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      const s = await write('POST', '/v1/session', { username: f.get('username'), password: f.get('password') });
      message = '';
      // A deployment without anonymous viewing could not load the map's data before: load it now.
      if (document.body.dataset.ready !== '1') { location.reload(); return; }
      set(s);
    } catch (err) {
      message = `${w('failed')}: ${err.message}`;
      render();
    }
  });
}

// initAccount reads who is signed in and calls onChange whenever that changes.
export async function initAccount(onChange) {
  changed = onChange;
  try {
    const res = await fetch('/v1/session', { headers: { Accept: 'application/json' } });
    set(res.ok ? await res.json() : {});
  } catch {
    set({});
  }
}

// cardExtras is what a grid's card shows to those who may see it: the change history button.
export function cardExtras(p) {
  if (!can('audit.read')) return '';
  return `<h3>${w('changes')}</h3><button type="button" id="grid-history" data-grid="${esc(p.id)}">${w('changes')}</button><ul id="grid-changes"></ul>`;
}

// wireCard connects cardExtras' controls in the card el.
export function wireCard(el) {
  const b = el.querySelector('#grid-history');
  if (!b) return;
  b.addEventListener('click', async () => {
    const ul = el.querySelector('#grid-changes');
    try {
      const res = await fetch(`/v1/audit?target_kind=grid&target=${encodeURIComponent(b.dataset.grid)}&limit=50`, { headers: { Accept: 'application/json' } });
      const body = await res.json();
      if (!res.ok) throw new Error(body?.error?.message || `HTTP ${res.status}`);
      ul.innerHTML = body.entries.map((e) => `<li class="change"><code>${esc(e.at.slice(0, 19).replace('T', ' '))}</code> ${esc(e.action)} · ${w('by')} <b>${esc(e.username || 'system')}</b></li>`).join('') || `<li class="muted">${w('noChanges')}</li>`;
    } catch (err) {
      ul.innerHTML = `<li class="err">${esc(err.message)}</li>`;
    }
  });
}
