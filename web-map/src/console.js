// The dispatcher's console (issue #16): every open case on the map coloured by its traffic light
// and clustered when zoomed out, filters, a queue sorted by due time, a case's card with the
// actions of the case loop, live changes through GET /v1/cases/stream, and the hotline intake.
// Its own page (console.html, /console): the grid map's main.js is not loaded here.
import * as maplibregl from 'maplibre-gl';
import { lang, setLang, roleName } from './i18n.js';
import { initAccount, session, can } from './account.js';
import { initPatrols } from './patrols-layer.js';
import { w, kindName, stateName, sourceName, lightName, LIGHT_COLOURS, OPEN_STATES, esc, fmtTime, send, get, deadlineOf, lightAt } from './cases-common.js';

const $ = (s) => document.querySelector(s);
const cases = new Map(); // id -> case (the list's fields; full cases after a change)
const deadlines = new Map(); // id -> {warn_at, due_at}
const lights = new Map(); // id -> the light last drawn
const st = { open: null, picking: false, point: null, catalogue: [], departments: [], stream: null, filters: {} };
let map;
let patrols; // the workers' layers and the card's nearest workers (patrols-layer.js)

// ---- data -----------------------------------------------------------------------------------

async function loadCases() {
  cases.clear(); deadlines.clear();
  let next = '';
  for (let page = 0; page < 20; page++) {
    const body = await get(`/v1/cases?state=${OPEN_STATES.join(',')}&limit=1000${next ? '&' + next : ''}`);
    for (const c of body.cases) cases.set(c.id, c);
    const ids = body.cases.map((c) => c.id);
    if (ids.length) {
      const d = await get(`/v1/cases/deadlines?ids=${ids.join(',')}`);
      for (const [id, x] of Object.entries(d.deadlines)) deadlines.set(Number(id), x);
    }
    if (!body.next) break;
    next = body.next;
  }
  redraw();
}

// refresh reads one case again (after a change from the stream or from this page).
async function refresh(id) {
  const r = await send('GET', `/v1/cases/${id}`);
  if (!r.ok) { cases.delete(id); deadlines.delete(id); redraw(); return null; }
  const c = r.body;
  if (OPEN_STATES.includes(c.state)) {
    cases.set(id, c);
    const d = deadlineOf(c);
    if (d) deadlines.set(id, d); else deadlines.delete(id);
  } else { cases.delete(id); deadlines.delete(id); }
  redraw();
  if (st.open === id) await renderCard(c);
  return c;
}

const lightOf = (c) => lightAt(c, deadlines.get(c.id), Date.now());

function matches(c) {
  const f = st.filters;
  if (f.state && c.state !== f.state) return false;
  if (f.light && lightOf(c) !== f.light) return false;
  if (f.category && c.category_code !== f.category) return false;
  if (f.source && c.source !== f.source) return false;
  if (f.department && !(c.party?.kind === 'department' && c.party.ref === f.department) && !(c.co_departments || []).includes(f.department)) return false;
  if (f.grid && !(c.grid_chain || []).includes(f.grid)) return false;
  return true;
}

const categoryName = (code) => st.catalogue.find((x) => x.code === code)?.name || code;
const dueOf = (c) => deadlines.get(c.id)?.due_at || '9999';

// redraw puts the filtered cases on the map and in the queue with the lights of now.
function redraw() {
  const shown = [...cases.values()].filter(matches);
  for (const c of cases.values()) lights.set(c.id, lightOf(c));
  const fc = { type: 'FeatureCollection', features: shown.map((c) => ({ type: 'Feature', id: c.id, geometry: { type: 'Point', coordinates: [c.lon, c.lat] }, properties: { id: c.id, light: lights.get(c.id) } })) };
  map?.getSource('cases')?.setData(fc);
  shown.sort((a, b) => dueOf(a).localeCompare(dueOf(b)) || a.id - b.id);
  $('#queue').innerHTML = shown.map((c) => {
    const l = lights.get(c.id);
    return `<li data-id="${c.id}" data-light="${l}" class="${st.open === c.id ? 'open' : ''}"><span class="dot" style="background:${LIGHT_COLOURS[l]}" title="${esc(lightName(l))}"></span>
<b>${esc(c.number)}</b> ${esc(categoryName(c.category_code))} <small>${esc(stateName(c.state))}</small><br><small class="muted">${esc(w('due'))} ${esc(fmtTime(deadlines.get(c.id)?.due_at) || '—')} · ${esc(sourceName(c.source))}${c.urgency === 'urgent' ? ' · <b class="err">' + esc(w('urgent')) + '</b>' : ''}</small></li>`;
  }).join('') || `<li class="muted">${esc(w('noCases'))}</li>`;
  $('#count').textContent = `${shown.length} / ${cases.size}`;
}

// tick recomputes the lights on the page's clock: a case turns red when it becomes late.
function tick() {
  let changed = false;
  for (const c of cases.values()) if (lightOf(c) !== lights.get(c.id)) changed = true;
  if (!changed) return;
  const was = st.open && lights.get(st.open);
  redraw();
  if (st.open && lights.get(st.open) !== was) refresh(st.open);
}

// ---- the live stream ------------------------------------------------------------------------

function connect() {
  st.stream?.close();
  const es = new EventSource('/v1/cases/stream');
  st.stream = es;
  es.addEventListener('open', () => { $('#live').textContent = '● ' + w('live'); $('#live').className = 'on'; });
  es.addEventListener('error', () => { $('#live').textContent = w('offline'); $('#live').className = 'err'; });
  es.addEventListener('case', (e) => {
    let ev;
    try { ev = JSON.parse(e.data); } catch { return; }
    // Tests hold the stream back to make a card stale on purpose (the 409 path).
    if (window.gridlineConsole?.pauseStream) return;
    refresh(ev.case_id);
  });
}

// ---- the card -------------------------------------------------------------------------------

async function openCard(id) {
  st.open = id;
  $('#card').hidden = false;
  $('#card').innerHTML = `<p class="muted">…</p>`;
  const c = await refresh(id) || (await send('GET', `/v1/cases/${id}`)).body;
  if (c && c.id) renderCard(c);
}

// where reads what the card says of the place: the resolver's chain with the people responsible,
// and the four bounds of the case's grid.
const whereCache = new Map();
async function whereOf(c) {
  const key = `${c.lon},${c.lat},${c.grid_id}`;
  if (whereCache.has(key)) return whereCache.get(key);
  const [res, grid] = await Promise.all([
    send('GET', `/v1/resolve?lon=${c.lon}&lat=${c.lat}`),
    c.grid_id ? send('GET', `/v1/grids/${c.grid_id}`) : Promise.resolve({ ok: false }),
  ]);
  const out = { chain: res.ok ? res.body.chain : [], bounds: grid.ok ? grid.body.properties?.four_bounds : null };
  whereCache.set(key, out);
  return out;
}

function partyText(p) {
  if (!p) return '—';
  return `${p.name || p.ref || ''}${p.post ? ' · ' + roleName(p.post) : ''}${p.grid_code ? ' · ' + p.grid_code : ''} <small class="tag">${esc(p.kind)}</small>`;
}

async function renderCard(c) {
  if (st.open !== c.id) return;
  const el = $('#card');
  const routing = c.routing || {};
  const d = deadlineOf(c) || deadlines.get(c.id);
  const l = lightAt(c, d, Date.now());
  const where = await whereOf(c).catch(() => ({ chain: [] }));
  if (st.open !== c.id) return;
  const people = (where.chain || []).filter((g) => g.level !== 'district').map((g) => `<li><b>${esc(g.name)}</b> <small>${esc(g.code)}</small>${(g.responsible || []).map((p) => `<br><small>${esc(roleName(p.role))}: ${esc(p.name)} ${esc(p.phone || '')}${p.fallback ? ' (' + esc(w('fallback')) + ')' : ''}</small>`).join('')}</li>`).join('');
  const b = where.bounds || {};
  const bounds = ['east', 'south', 'west', 'north'].filter((k) => b[k]).map((k) => `${esc(w(k))} ${esc(b[k])}`).join('；') || w('none');
  const photos = (c.attachments || []).map((a) => `<a href="/v1/cases/${c.id}/attachments/${a.id}" target="_blank"><img class="photo" alt="${esc(a.kind)}" src="/v1/cases/${c.id}/attachments/${a.id}"></a>`).join('') || `<span class="muted">${esc(w('none'))}</span>`;
  const steps = (c.steps || []).map((s) => `<tr class="${s.ended_at ? 'muted' : ''}"><td>${esc(kindName(s.step))}</td><td>${fmtTime(s.started_at)}</td><td>${fmtTime(s.warn_at)}</td><td>${fmtTime(s.due_at)}</td><td>${s.ended_at ? '✓' : `<span class="dot" style="background:${LIGHT_COLOURS[lightAt(c, s.due_at ? s : null, Date.now(), s.light)]}"></span>`}</td></tr>`).join('');
  const events = (c.events || []).map((e) => `<li><code>${fmtTime(e.at)}</code> <b>${esc(kindName(e.kind))}</b> ${e.to_state ? '→ ' + esc(stateName(e.to_state)) : ''} · ${esc(e.actor_name || 'system')}${e.reason ? `<br><small>${esc(e.reason)}</small>` : ''}</li>`).join('');
  el.innerHTML = `<button class="close" type="button" aria-label="${esc(w('closeCard'))}">×</button>
<h2 id="card-number">${esc(c.number)} <span class="dot" style="background:${LIGHT_COLOURS[l]}"></span> <small id="card-light" data-light="${l}">${esc(lightName(l))}</small></h2>
<p><span class="tag" id="card-state" data-state="${esc(c.state)}">${esc(stateName(c.state))}</span> ${esc(categoryName(c.category_code))} <small>${esc(c.category_code)}</small> · ${esc(sourceName(c.source))}${c.urgency === 'urgent' ? ' · <b class="err">' + esc(w('urgent')) + '</b>' : ''}</p>
<p>${esc(c.description)}</p>
<h3>${esc(w('where'))}</h3><p>${esc(c.address || '')} <small>${c.lon.toFixed(6)}, ${c.lat.toFixed(6)}</small>${(c.flags || []).includes('outside') ? ` <b class="err">${esc(w('outside'))}</b>` : ''}</p>
<ul class="people">${people}</ul><p><small>${esc(w('fourBounds'))}: ${bounds}</small></p>
<h3>${esc(w('party'))}</h3><p id="card-party">${partyText(c.party)}</p>
<h3>${esc(w('photos'))}</h3><div class="photos">${photos}</div>
<h3>${esc(w('routing'))}</h3><p>${esc(w('suggested'))}: ${partyText(routing.party)}${routing.fallback ? ` <span class="tag">${esc(w('fallback'))}</span>` : ''}<br>
<small>${routing.rule ? `${esc(w('rule'))} #${esc(routing.rule.ord)} ${esc(routing.rule.note || '')}` : esc(w('fallback'))}</small></p>
<ol class="why">${(routing.steps || []).map((s) => `<li><small>${esc(s)}</small></li>`).join('')}</ol>
<h3>${esc(w('steps'))}</h3><table class="steps"><tr><th></th><th>${esc(w('started'))}</th><th>${esc(w('warn'))}</th><th>${esc(w('due'))}</th><th></th></tr>${steps}</table>
<h3>${esc(w('actions'))}</h3><div id="actions">${actionsHTML(c)}</div><p id="card-msg" class="err"></p>
<h3>${esc(w('timeline'))}</h3><ol class="timeline">${events}</ol>`;
  el.querySelector('.close').addEventListener('click', () => { st.open = null; el.hidden = true; redraw(); });
  wireActions(c);
  patrols?.card(c);
}

function actionsHTML(c) {
  if (!can('cases.dispatch') && !can('cases.supervise')) return `<p class="muted">${esc(w('signInFirst'))}</p>`;
  const btn = (kind, label, extra = '') => `<button type="button" data-kind="${kind}" ${extra}>${esc(label)}</button>`;
  const out = [];
  const s = c.state;
  if (s === 'reported') out.push(btn('file', w('file')), btn('void', w('void')));
  if (['filed', 'returned', 'dispatched'].includes(s)) {
    out.push(btn('dispatch', s === 'filed' ? `${w('suggested')}` : w('redispatch'), 'data-suggested="1" id="dispatch-suggested"'));
    const opts = st.departments.map((d) => `<option value="department:${esc(d.code)}">${esc(d.name)}</option>`).join('');
    out.push(`<select id="party-other"><option value="">${esc(w('chooseParty'))}</option>${c.grid_id ? `<option value="worker:${c.grid_id}">${esc(w('workerOf'))}${esc(c.grid_id)}</option>` : ''}${opts}</select>`, btn('dispatch', w('dispatchTo'), 'data-other="1"'));
  }
  // An extension is approved only while one is asked for (the engine takes the asked limit).
  const ext = [...(c.events || [])].reverse().find((e) => ['request_extension', 'approve_extension', 'reject_extension'].includes(e.kind));
  if (['dispatched', 'signed_for', 'handled'].includes(s) && ext?.kind === 'request_extension') out.push(btn('approve_extension', `${w('approveExt')}${ext.reason ? '：' + ext.reason : ''}`));
  if (s === 'reported_back') out.push(btn('verify', w('verify')), btn('rework', w('rework')));
  if (s === 'verified') out.push(btn('close', w('close')), btn('rework', w('rework')));
  if (!['reported', 'voided', 'merged', 'closed', 'evaluated'].includes(s)) out.push(btn('supervise', w('supervise')));
  return `<input id="reason" placeholder="${esc(w('reason'))}"><div class="buttons">${out.join(' ')}</div>`;
}

function wireActions(c) {
  for (const b of document.querySelectorAll('#actions button[data-kind]')) {
    b.addEventListener('click', async () => {
      const req = { kind: b.dataset.kind, expect_version: c.version };
      const reason = $('#reason')?.value.trim();
      if (reason) req.reason = reason;
      if (b.dataset.other) {
        const v = $('#party-other').value;
        if (!v) return;
        const [kind, ref] = v.split(':');
        req.party = kind === 'worker' ? { kind: 'worker', ref: '', grid: Number(ref) } : { kind, ref };
      }
      b.disabled = true;
      const r = await send('POST', `/v1/cases/${c.id}/events`, req);
      if (r.ok) { await refresh(c.id); return; }
      b.disabled = false;
      if (r.status === 409 && r.body?.error?.details?.version !== undefined) {
        await refresh(c.id);
        $('#card-msg').textContent = w('conflict');
        return;
      }
      $('#card-msg').textContent = `${w('failed')}: ${r.body?.error?.message || r.status}`;
    });
  }
}

// ---- the hotline intake -----------------------------------------------------------------------

const metres = (a, b) => {
  const r = Math.PI / 180;
  const x = (b[0] - a[0]) * r * Math.cos(((a[1] + b[1]) / 2) * r);
  const y = (b[1] - a[1]) * r;
  return Math.sqrt(x * x + y * y) * 6371008.8;
};

// nearbyDuplicates is what the intake shows before filing: open cases of the same category
// within 300 m of the point (the engine's own check answers the intake too).
function renderDuplicates() {
  const code = pickedCategory();
  const el = $('#intake-dups');
  if (!st.point || !code) { el.innerHTML = ''; return; }
  const near = [...cases.values()].filter((c) => c.category_code === code && metres(st.point, [c.lon, c.lat]) <= 300)
    .map((c) => ({ c, m: metres(st.point, [c.lon, c.lat]) })).sort((a, b) => a.m - b.m);
  el.innerHTML = `<b>${esc(w('duplicates'))}</b>` + (near.length ? `<ul>${near.map(({ c, m }) => `<li data-id="${c.id}"><a href="#" data-open="${c.id}">${esc(c.number)}</a> ${esc(stateName(c.state))} · ${Math.round(m)} m</li>`).join('')}</ul>` : ` <span class="muted">${esc(w('noDuplicates'))}</span>`);
  el.querySelectorAll('a[data-open]').forEach((a) => a.addEventListener('click', (e) => { e.preventDefault(); openCard(Number(a.dataset.open)); }));
}

function pickedCategory() {
  const v = $('#intake-category').value.trim();
  const code = v.split(/\s+/)[0];
  return st.catalogue.some((c) => c.code === code) ? code : '';
}

function setPoint(p) {
  st.point = p;
  $('#intake-point').textContent = p ? `${p[0].toFixed(6)}, ${p[1].toFixed(6)}` : w('pickOnMap');
  map.getSource('intake')?.setData({ type: 'FeatureCollection', features: p ? [{ type: 'Feature', geometry: { type: 'Point', coordinates: p }, properties: {} }] : [] });
  renderDuplicates();
}

function initIntake() {
  const f = $('#intake');
  $('#intake-open').addEventListener('click', () => { f.hidden = !f.hidden; st.picking = !f.hidden; map.getCanvas().style.cursor = st.picking ? 'crosshair' : ''; });
  $('#intake-categories').innerHTML = st.catalogue.filter((c) => c.active).map((c) => `<option value="${esc(c.code)} ${esc(c.name)}">${esc(c.class_name)}</option>`).join('');
  $('#intake-category').addEventListener('input', renderDuplicates);
  $('#intake-locate').addEventListener('click', async () => {
    const a = $('#intake-address').value.trim();
    if (!a) return;
    const r = await send('GET', `/v1/resolve?address=${encodeURIComponent(a)}`);
    const p = r.ok && (r.body?.wgs84 || r.body?.point);
    if (p && Number.isFinite(p.lon) && r.body?.point?.lon !== undefined && !r.body?.error) {
      setPoint([p.lon, p.lat]);
      map.flyTo({ center: [p.lon, p.lat], zoom: Math.max(map.getZoom(), 15) });
    } else $('#intake-msg').textContent = w('noAddress');
  });
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    const code = pickedCategory();
    if (!st.point || !code) { $('#intake-msg').textContent = !st.point ? w('pickOnMap') : w('chooseCategory'); return; }
    const body = { source: 'hotline', category_code: code, urgency: $('#intake-urgent').checked ? 'urgent' : 'normal', description: $('#intake-description').value,
      address: $('#intake-address').value, lon: st.point[0], lat: st.point[1], crs: 'wgs84',
      reporter: { name: $('#intake-reporter').value, phone: $('#intake-phone').value } };
    const r = await send('POST', '/v1/cases', body);
    if (!r.ok) { $('#intake-msg').textContent = `${w('failed')}: ${r.body?.error?.message || r.status}`; return; }
    $('#intake-msg').textContent = `${w('sent')}: ${r.body.case.number}`;
    const dups = r.body.duplicates || [];
    if (dups.length) $('#intake-dups').innerHTML = `<b>${esc(w('duplicates'))}</b><ul>${dups.map((d) => `<li>${esc(d.number)} ${esc(stateName(d.state))} · ${Math.round(d.distance_m)} m</li>`).join('')}</ul>`;
    f.reset(); setPoint(null); f.hidden = true; st.picking = false; map.getCanvas().style.cursor = '';
    openCard(r.body.case.id);
  });
}

// ---- filters --------------------------------------------------------------------------------

function initFilters() {
  const opt = (v, label) => `<option value="${esc(v)}">${esc(label)}</option>`;
  $('#f-state').innerHTML = opt('', w('all')) + OPEN_STATES.map((s) => opt(s, stateName(s))).join('');
  $('#f-light').innerHTML = opt('', w('all')) + ['red', 'yellow', 'green'].map((l) => opt(l, lightName(l))).join('');
  $('#f-source').innerHTML = opt('', w('all')) + ['patrol', 'hotline', 'camera', 'public', 'open311', 'assignment'].map((s) => opt(s, sourceName(s))).join('');
  $('#f-department').innerHTML = opt('', w('all')) + st.departments.map((d) => opt(d.code, d.name)).join('');
  $('#f-category').innerHTML = opt('', w('all')) + st.catalogue.map((c) => opt(c.code, `${c.code} ${c.name}`)).join('');
  const read = async () => {
    const g = $('#f-grid').value.trim();
    let grid = 0;
    if (g) { try { grid = (await get(`/v1/grids/${encodeURIComponent(g)}`)).properties.id; } catch { grid = -1; } }
    st.filters = { state: $('#f-state').value, light: $('#f-light').value, source: $('#f-source').value, department: $('#f-department').value, category: $('#f-category').value, grid };
    redraw();
  };
  for (const id of ['f-state', 'f-light', 'f-source', 'f-department', 'f-category', 'f-grid']) $('#' + id).addEventListener('change', read);
}

function renderText() {
  document.title = `${w('console')} · gridline`;
  for (const el of document.querySelectorAll('[data-w]')) el.textContent = w(el.dataset.w);
  $('#lang').textContent = lang === 'en' ? '中文' : 'English';
}

// ---- start ----------------------------------------------------------------------------------

async function start() {
  setLang(new URLSearchParams(location.search).get('lang') || 'zh');
  renderText();
  $('#lang').addEventListener('click', () => { const u = new URL(location.href); u.searchParams.set('lang', lang === 'en' ? 'zh' : 'en'); location.href = u.href; });
  const style = await get('/styles/default.json');
  style.layers = style.layers.filter((l) => l.type === 'line' || l.type === 'background' || (l.type === 'fill' && /^(grids|communities|subdistricts)-fill$/.test(l.id)));
  for (const l of style.layers) if (l.type === 'fill') l.paint = { 'fill-color': '#ffffff', 'fill-opacity': 0.01 };
  style.sources.cases = { type: 'geojson', data: { type: 'FeatureCollection', features: [] }, cluster: true, clusterMaxZoom: 14, clusterRadius: 40,
    clusterProperties: { red: ['+', ['case', ['==', ['get', 'light'], 'red'], 1, 0]], yellow: ['+', ['case', ['==', ['get', 'light'], 'yellow'], 1, 0]] } };
  style.sources.intake = { type: 'geojson', data: { type: 'FeatureCollection', features: [] } };
  const colour = ['match', ['get', 'light'], 'red', LIGHT_COLOURS.red, 'yellow', LIGHT_COLOURS.yellow, 'green', LIGHT_COLOURS.green, LIGHT_COLOURS['']];
  style.layers.push(
    { id: 'clusters', type: 'circle', source: 'cases', filter: ['has', 'point_count'], paint: {
      'circle-color': ['case', ['>', ['get', 'red'], 0], LIGHT_COLOURS.red, ['>', ['get', 'yellow'], 0], LIGHT_COLOURS.yellow, LIGHT_COLOURS.green],
      'circle-radius': ['step', ['get', 'point_count'], 14, 10, 18, 50, 24], 'circle-stroke-color': '#fff', 'circle-stroke-width': 2, 'circle-opacity': 0.85 } },
    { id: 'cluster-count', type: 'symbol', source: 'cases', filter: ['has', 'point_count'], layout: { 'text-field': ['get', 'point_count_abbreviated'], 'text-font': ['sans-serif'], 'text-size': 12 }, paint: { 'text-color': '#fff' } },
    { id: 'case-points', type: 'circle', source: 'cases', filter: ['!', ['has', 'point_count']], paint: { 'circle-color': colour, 'circle-radius': 7, 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } },
    { id: 'intake-point', type: 'circle', source: 'intake', paint: { 'circle-color': '#1971c2', 'circle-radius': 8, 'circle-stroke-color': '#fff', 'circle-stroke-width': 3 } },
  );
  let bounds = null;
  try {
    for (const c of (await get('/ogc/collections')).collections || []) {
      const e = c.extent?.spatial?.bbox?.[0];
      if (e?.length === 4 && e.every(Number.isFinite)) bounds = bounds ? [Math.min(bounds[0], e[0]), Math.min(bounds[1], e[1]), Math.max(bounds[2], e[2]), Math.max(bounds[3], e[3])] : e.slice();
    }
  } catch { /* none */ }
  maplibregl.setWorkerUrl(new URL('maplibre-gl-worker.mjs', import.meta.url).href);
  const opts = { container: 'map', style, attributionControl: false, preserveDrawingBuffer: true,
    localIdeographFontFamily: '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif' };
  Object.assign(opts, bounds ? { bounds: [[bounds[0], bounds[1]], [bounds[2], bounds[3]]], fitBoundsOptions: { padding: 40 } } : { center: [113.65, 34.75], zoom: 11 });
  map = new maplibregl.Map(opts);
  window.gridlineMap = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.on('click', 'clusters', async (e) => {
    const f = e.features[0];
    const z = await map.getSource('cases').getClusterExpansionZoom(f.properties.cluster_id);
    map.easeTo({ center: f.geometry.coordinates, zoom: z });
  });
  map.on('click', 'case-points', (e) => { if (!st.picking) openCard(e.features[0].properties.id); });
  map.on('click', (e) => { if (st.picking) setPoint([e.lngLat.lng, e.lngLat.lat]); });
  for (const l of ['clusters', 'case-points']) {
    map.on('mouseenter', l, () => { if (!st.picking) map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', l, () => { if (!st.picking) map.getCanvas().style.cursor = ''; });
  }
  $('#queue').addEventListener('click', (e) => {
    const li = e.target.closest('li[data-id]');
    if (!li) return;
    const c = cases.get(Number(li.dataset.id));
    openCard(c.id);
    map.easeTo({ center: [c.lon, c.lat], zoom: Math.max(map.getZoom(), 16) });
  });
  const [cats, depts] = await Promise.all([get('/v1/case-categories').catch(() => ({ categories: [] })), get('/v1/departments').catch(() => ({ departments: [] }))]);
  st.catalogue = cats.categories || [];
  st.departments = depts.departments || [];
  initFilters();
  initIntake();
  await new Promise((ok) => (map.loaded() ? ok() : map.once('load', ok)));
  patrols = initPatrols(map, { refresh });
  let signedIn = null;
  await initAccount(async () => {
    if (signedIn === session.signed_in && signedIn !== null) { if (st.open) openCard(st.open); return; }
    signedIn = session.signed_in;
    document.body.dataset.signedIn = session.signed_in ? '1' : '0';
    if (!session.signed_in || !can('cases.read')) { st.stream?.close(); cases.clear(); redraw(); $('#queue').innerHTML = `<li class="muted">${esc(w('signInFirst'))}</li>`; return; }
    await loadCases();
    connect();
    patrols?.load();
    document.body.dataset.consoleReady = '1';
  });
  setInterval(tick, 5000);
  window.gridlineConsole = { cases, deadlines, lights, tick, openCard, setPoint };
  document.body.dataset.ready = '1';
}

start().catch((e) => { document.body.dataset.error = e.message; console.error(e); });
