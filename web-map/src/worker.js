// The grid worker's phone page (issue #16, /m): sign in, my grids drawn as SVG (no map library
// and no basemap: a small page for a slow connection), my cases by due time, sign for, report
// back with a photo taken on the phone, self-handle a small matter on the spot (自处置), and
// report a new find at the phone's position (GPS is WGS84: sent with crs=wgs84).
import { lang, setLang } from './i18n.js';
import { initAccount, session } from './account.js';
import { w, stateName, lightName, LIGHT_COLOURS, OPEN_STATES, esc, fmtTime, send, get, lightAt } from './cases-common.js';

const $ = (s) => document.querySelector(s);
const st = { grids: [], cases: [], deadlines: {}, catalogue: [], point: null };

// drawGrids draws my grids and my cases in an SVG, in an equirectangular view of their extent.
function drawGrids() {
  const svg = $('#grids');
  const rings = [];
  for (const g of st.grids) {
    const geom = g.geometry;
    const polys = geom?.type === 'Polygon' ? [geom.coordinates] : geom?.type === 'MultiPolygon' ? geom.coordinates : [];
    for (const p of polys) rings.push({ g, ring: p[0] });
  }
  const pts = [...rings.flatMap((r) => r.ring), ...st.cases.map((c) => [c.lon, c.lat]), ...(st.point ? [st.point] : [])];
  if (!pts.length) { svg.innerHTML = ''; return; }
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of pts) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
  const k = Math.cos(((y0 + y1) / 2) * Math.PI / 180);
  const W = 360; const pad = 12;
  const sx = (x1 - x0) * k || 1e-4; const sy = (y1 - y0) || 1e-4;
  const s = (W - 2 * pad) / Math.max(sx, sy);
  const H = Math.round(sy * s + 2 * pad);
  const P = ([x, y]) => `${(pad + (x - x0) * k * s).toFixed(1)},${(pad + (y1 - y) * s).toFixed(1)}`;
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.innerHTML = rings.map(({ g, ring }) => `<polygon points="${ring.map(P).join(' ')}" fill="#e7f0ff" stroke="#1971c2" stroke-width="1.5"><title>${esc(g.properties.name)}</title></polygon>`).join('')
    + st.cases.map((c) => { const [x, y] = P([c.lon, c.lat]).split(','); return `<circle cx="${x}" cy="${y}" r="6" fill="${LIGHT_COLOURS[lightOf(c)]}" stroke="#fff" stroke-width="2" data-id="${c.id}"/>`; }).join('')
    + (st.point ? (() => { const [x, y] = P(st.point).split(','); return `<circle cx="${x}" cy="${y}" r="5" fill="#1971c2"/>`; })() : '');
  $('#grid-names').textContent = st.grids.map((g) => g.properties.name).join('、');
}

const lightOf = (c) => lightAt(c, st.deadlines[c.id], Date.now());

function renderCases() {
  const due = (c) => st.deadlines[c.id]?.due_at || '9999';
  st.cases.sort((a, b) => due(a).localeCompare(due(b)) || a.id - b.id);
  $('#cases').innerHTML = st.cases.map((c) => {
    const l = lightOf(c);
    const cat = st.catalogue.find((x) => x.code === c.category_code)?.name || c.category_code;
    const act = c.state === 'dispatched' ? `<button type="button" class="sign" data-id="${c.id}">${esc(w('sign'))}</button>`
      : ['signed_for', 'handled'].includes(c.state) ? `<form class="back" data-id="${c.id}"><input name="note" placeholder="${esc(w('reason'))}">
<label class="file">${esc(w('photo'))} <input name="photo" type="file" accept="image/*" capture="environment"></label><button type="submit">${esc(w('reportBack'))}</button></form>` : '';
    return `<li data-id="${c.id}" data-state="${esc(c.state)}"><span class="dot" style="background:${LIGHT_COLOURS[l]}" title="${esc(lightName(l))}"></span> <b>${esc(c.number)}</b> ${esc(cat)}
<br><small>${esc(stateName(c.state))} · ${esc(w('due'))} ${esc(fmtTime(st.deadlines[c.id]?.due_at) || '—')}</small><br><small class="muted">${esc(c.address || c.description)}</small>${act}<p class="msg err"></p></li>`;
  }).join('') || `<li class="muted">${esc(w('noCases'))}</li>`;
  for (const b of document.querySelectorAll('#cases button.sign')) b.addEventListener('click', () => act(Number(b.dataset.id), { kind: 'sign' }, null, b));
  for (const f of document.querySelectorAll('#cases form.back')) {
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      const file = f.photo.files[0];
      act(Number(f.dataset.id), { kind: 'report_back', reason: f.note.value || undefined }, file, f.querySelector('button'));
    });
  }
  drawGrids();
}

// act posts one transition (multipart when a photo goes with it) with the version read.
async function act(id, req, photo, button) {
  const c = st.cases.find((x) => x.id === id);
  req.expect_version = c.version;
  let body = req;
  if (photo) { body = new FormData(); body.append('event', JSON.stringify(req)); body.append('photo_after', photo, photo.name || 'photo.jpg'); }
  button.disabled = true;
  const r = await send('POST', `/v1/cases/${id}/events`, body);
  if (!r.ok) {
    button.disabled = false;
    const li = document.querySelector(`#cases li[data-id="${id}"] .msg`);
    if (li) li.textContent = r.status === 409 && r.body?.error?.details?.version !== undefined ? w('conflict') : `${w('failed')}: ${r.body?.error?.message || r.status}`;
    if (r.status === 409) await loadCases();
    return;
  }
  await loadCases();
}

async function loadCases() {
  const body = await get(`/v1/cases?state=${OPEN_STATES.join(',')}&limit=200`);
  st.cases = body.cases;
  const ids = st.cases.map((c) => c.id);
  st.deadlines = ids.length ? (await get(`/v1/cases/deadlines?ids=${ids.join(',')}`)).deadlines : {};
  renderCases();
}

async function loadGrids() {
  const ids = [...new Set((session.grants || []).filter((g) => g.scope?.kind === 'grid').map((g) => g.scope.grid))];
  st.grids = (await Promise.all(ids.map((id) => get(`/v1/grids/${id}`).catch(() => null)))).filter(Boolean);
}

function initFind() {
  $('#find-categories').innerHTML = st.catalogue.filter((c) => c.active).map((c) => `<option value="${esc(c.code)} ${esc(c.name)}"></option>`).join('');
  $('#find-gps').addEventListener('click', () => {
    $('#find-msg').textContent = '…';
    navigator.geolocation.getCurrentPosition((p) => {
      st.point = [p.coords.longitude, p.coords.latitude];
      $('#find-point').textContent = `${st.point[0].toFixed(6)}, ${st.point[1].toFixed(6)} (WGS84 ±${Math.round(p.coords.accuracy)} m)`;
      $('#find-msg').textContent = '';
      drawGrids();
    }, (err) => { $('#find-msg').textContent = `${w('failed')}: ${err.message}`; }, { enableHighAccuracy: true, timeout: 20000 });
  });
  $('#find').addEventListener('submit', async (e) => {
    e.preventDefault();
    const code = $('#find-category').value.trim().split(/\s+/)[0];
    if (!st.point) { $('#find-msg').textContent = w('useGPS'); return; }
    // GPS gives WGS84: say so to the server rather than leave it to a default.
    const rep = { source: 'patrol', category_code: code, description: $('#find-description').value, lon: st.point[0], lat: st.point[1], crs: 'wgs84', self_handled: $('#find-self').checked };
    const fd = new FormData();
    fd.append('case', JSON.stringify(rep));
    const photo = $('#find-photo').files[0];
    if (photo) fd.append(rep.self_handled ? 'photo_after' : 'photo_before', photo, photo.name || 'photo.jpg');
    const r = await send('POST', '/v1/cases', fd);
    if (!r.ok) { $('#find-msg').textContent = `${w('failed')}: ${r.body?.error?.message || r.status}`; return; }
    $('#find-msg').textContent = `${w('sent')}: ${r.body.case.number} (${stateName(r.body.case.state)})`;
    $('#find-msg').className = 'ok';
    e.target.reset(); st.point = null; $('#find-point').textContent = '';
    await loadCases();
  });
}

async function start() {
  setLang(new URLSearchParams(location.search).get('lang') || 'zh');
  document.title = `${w('worker')} · gridline`;
  for (const el of document.querySelectorAll('[data-w]')) el.textContent = w(el.dataset.w);
  $('#lang').textContent = lang === 'en' ? '中文' : 'English';
  $('#lang').addEventListener('click', () => { const u = new URL(location.href); u.searchParams.set('lang', lang === 'en' ? 'zh' : 'en'); location.href = u.href; });
  $('#find-category').placeholder = w('chooseCategory');
  $('#find-description').placeholder = w('description');
  let shown = null;
  await initAccount(async () => {
    $('#work').hidden = !session.signed_in;
    if (!session.signed_in) { shown = null; return; }
    if (shown === session.username) return;
    shown = session.username;
    if (!st.catalogue.length) { st.catalogue = (await get('/v1/case-categories').catch(() => ({ categories: [] }))).categories; initFind(); }
    await loadGrids();
    await loadCases();
    document.body.dataset.workerReady = '1';
  });
  setInterval(() => { if (session.signed_in) renderCases(); }, 30000);
  document.body.dataset.ready = '1';
}

start().catch((e) => { document.body.dataset.error = e.message; console.error(e); });
