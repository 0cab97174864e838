// Patrols and routes on the dispatcher's console (issue #16): where each on-duty grid worker is
// now (GET /v1/workers/positions?on_duty=true, read again every 30 s: positions are not on the
// case stream), a selected worker's track today with their figures (GET /v1/workers/{id}/track),
// the days without a patrol of their grids (GET /v1/patrols/summary), and in a case's card the
// nearest workers by road with the chosen one's route drawn (GET /v1/routes/nearest-workers) and
// one click to dispatch the case to that worker. console.js calls initPatrols once the map has
// loaded and patrols.card(c) after drawing a card; everything else lives here.
import { lang } from './i18n.js';
import { can } from './account.js';
import { esc, send, fmtTime } from './cases-common.js';

const words = {
  zh: {
    workers: '在岗网格员', showWorkers: '显示网格员', noWorkers: '暂无在岗网格员', outsideOwn: '不在本网格', inOwn: '在本网格',
    ownGrid: '本网格', at: '所在', ago: '前', justNow: '刚刚', minutes: '分钟', hours: '小时', track: '今日轨迹', points: '定位点',
    covered: '网格覆盖率', outsideTime: '离开本网格', distance: '巡查里程', noPost: '无岗位', daysWithout: '未巡查天数',
    patrolledToday: '今日已巡', never: '无巡查记录', days: '天', nearest: '路网最近的网格员', noNearest: '附近无在岗网格员',
    noRoads: '未加载路网，无法计算路线', route: '路线', dispatchHere: '派遣给此人', dispatched: '已派遣给', km: '公里', min: '分钟',
    viaRoads: '途经', clear: '清除', failed: '失败', conflict: '此案件刚被他人更改，已重新载入，请确认后再操作', gridPatrols: '网格巡查情况',
    lastPatrol: '最近巡查', unavailable: '巡查功能未启用', gridCode: '网格编码', show: '查看', noGrid: '找不到该网格',
  },
  en: {
    workers: 'Workers on duty', showWorkers: 'Show workers', noWorkers: 'no worker on duty', outsideOwn: 'outside own grid', inOwn: 'in own grid',
    ownGrid: 'Own grid', at: 'At', ago: ' ago', justNow: 'just now', minutes: ' min', hours: ' h', track: "Today's track", points: 'Points',
    covered: 'Grid covered', outsideTime: 'Outside own grid', distance: 'Walked', noPost: 'no post', daysWithout: 'Days without patrol',
    patrolledToday: 'patrolled today', never: 'no patrol on record', days: ' days', nearest: 'Nearest workers by road', noNearest: 'no worker on duty nearby',
    noRoads: 'no road network loaded: routes are unavailable', route: 'Route', dispatchHere: 'Dispatch to this worker', dispatched: 'Dispatched to', km: ' km', min: ' min',
    viaRoads: 'via', clear: 'Clear', failed: 'failed', conflict: 'Someone else changed this case just now; it was reloaded: check it and act again', gridPatrols: 'Patrols of the grids',
    lastPatrol: 'Last patrol', unavailable: 'patrols are not enabled on this server', gridCode: 'Grid code', show: 'Show', noGrid: 'no such grid',
  },
};
const w = (k) => words[lang]?.[k] ?? words.zh[k] ?? k;
const EMPTY = { type: 'FeatureCollection', features: [] };
const COLOURS = { own: '#1971c2', outside: '#e8590c', track: '#7048e8', route: '#0ca678' };

// age says how long ago t was, on the page's clock.
export function age(t, now = Date.now()) {
  const m = Math.floor((now - Date.parse(t)) / 60000);
  if (m < 1) return w('justNow');
  if (m < 60) return `${m}${w('minutes')}${w('ago')}`;
  return `${Math.floor(m / 60)}${w('hours')}${m % 60 ? ` ${m % 60}${w('minutes')}` : ''}${w('ago')}`;
}

const km = (m) => `${(m / 1000).toFixed(2)}${w('km')}`;
const mins = (s) => `${Math.max(1, Math.round(s / 60))}${w('min')}`;
const pct = (x) => (x === null || x === undefined ? w('noPost') : `${(x * 100).toFixed(1)}%`);
const gridText = (g) => (g ? `${g.name || ''} ${g.code ? `<small>${esc(g.code)}</small>` : ''}` : '—');
const ownText = (x) => (x.own_grids || []).map((g) => `${esc(g.name || g.code)}`).join('、') || esc(w('noPost'));

// initPatrols adds the workers' layers to map, a toggle and a panel to the side bar, and returns
// the hook console.js calls: card(c) after drawing a case's card. refresh(id) is the console's
// re-read of a case (after a dispatch from the card).
export function initPatrols(map, { refresh, every = 30000 } = {}) {
  const st = { workers: [], selected: null, shown: true, timer: null, nearest: [], chosen: null, caseId: null };
  // own: person id -> their own grids, from the positions answer (the nearest-workers answer does
  // not name them).
  const own = new Map();
  const $ = (s) => document.querySelector(s);

  map.addSource('workers', { type: 'geojson', data: EMPTY });
  map.addSource('worker-track', { type: 'geojson', data: EMPTY });
  map.addSource('worker-route', { type: 'geojson', data: EMPTY });
  map.addLayer({ id: 'worker-route', type: 'line', source: 'worker-route', filter: ['==', ['get', 'part'], 'road'], layout: { 'line-cap': 'round', 'line-join': 'round' },
    paint: { 'line-color': COLOURS.route, 'line-width': 5, 'line-opacity': 0.85 } });
  // From the worker to the road and from the road to the case: the snaps the route leaves out.
  map.addLayer({ id: 'worker-route-snaps', type: 'line', source: 'worker-route', filter: ['==', ['get', 'part'], 'snap'],
    paint: { 'line-color': COLOURS.route, 'line-width': 2, 'line-dasharray': [1, 1.5] } });
  map.addLayer({ id: 'worker-route-case', type: 'circle', source: 'worker-route', filter: ['==', ['get', 'part'], 'case'],
    paint: { 'circle-color': '#fff', 'circle-radius': 6, 'circle-stroke-color': COLOURS.route, 'circle-stroke-width': 3 } });
  map.addLayer({ id: 'worker-track', type: 'line', source: 'worker-track', layout: { 'line-cap': 'round', 'line-join': 'round' },
    paint: { 'line-color': COLOURS.track, 'line-width': 3, 'line-dasharray': [2, 1] } });
  map.addLayer({ id: 'worker-points', type: 'circle', source: 'workers', paint: {
    'circle-color': ['case', ['get', 'in_own_grid'], COLOURS.own, COLOURS.outside], 'circle-radius': ['case', ['get', 'selected'], 9, 6],
    'circle-stroke-color': ['case', ['get', 'selected'], '#000', '#fff'], 'circle-stroke-width': 2 } });
  map.addLayer({ id: 'worker-names', type: 'symbol', source: 'workers', minzoom: 13, layout: { 'text-field': ['get', 'name'], 'text-font': ['sans-serif'],
    'text-size': 12, 'text-anchor': 'top', 'text-offset': [0, 0.8] }, paint: { 'text-color': '#1b2b4b', 'text-halo-color': '#fff', 'text-halo-width': 1.5 } });

  // The side bar's section: the toggle, the list of workers, the selected worker's day.
  const box = document.createElement('section');
  box.id = 'patrols';
  box.innerHTML = `<label class="toggle"><input id="patrols-show" type="checkbox" checked> <span>${esc(w('showWorkers'))}</span></label>
<div id="patrols-body"><h2>${esc(w('workers'))} <small id="patrols-count"></small></h2>
<ul id="patrol-workers"></ul><div id="patrol-day" hidden></div>
<h3>${esc(w('gridPatrols'))}</h3><form id="patrol-grid-form"><label><span>${esc(w('gridCode'))}</span> <input id="patrol-grid" placeholder="410103…" autocomplete="off"> <button type="submit">${esc(w('show'))}</button></label></form>
<ul id="patrol-grid-days"></ul></div>`;
  const anchor = $('#cq h2:has(#count)') || null;
  $('#cq').insertBefore(box, anchor);

  const visible = (v) => {
    // The card's route stays: it belongs to the open case, not to the workers layer.
    for (const l of ['worker-points', 'worker-names', 'worker-track']) map.setLayoutProperty(l, 'visibility', v ? 'visible' : 'none');
    $('#patrols-body').hidden = !v;
  };
  $('#patrols-show').addEventListener('change', (e) => {
    st.shown = e.target.checked;
    document.body.dataset.patrols = st.shown ? '1' : '0';
    visible(st.shown);
    if (st.shown) load();
  });
  document.body.dataset.patrols = '1';

  // fit shows every coordinate of coords on the map.
  const fit = (coords) => {
    if (coords.length < 2) return;
    const b = coords.reduce((a, c) => [Math.min(a[0], c[0]), Math.min(a[1], c[1]), Math.max(a[2], c[0]), Math.max(a[3], c[1])], [180, 90, -180, -90]);
    map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 80, maxZoom: 17, duration: 0 });
  };

  function draw() {
    const fc = { type: 'FeatureCollection', features: st.workers.map((x) => ({ type: 'Feature', id: x.person_id, geometry: { type: 'Point', coordinates: [x.lon, x.lat] },
      properties: { person_id: x.person_id, name: x.name, in_own_grid: x.in_own_grid, selected: x.person_id === st.selected } })) };
    map.getSource('workers')?.setData(fc);
    $('#patrols-count').textContent = String(st.workers.length);
    $('#patrol-workers').innerHTML = st.workers.map((x) => `<li data-person="${x.person_id}" data-outside="${x.in_own_grid ? 0 : 1}" class="${x.person_id === st.selected ? 'open' : ''}">
<span class="dot" style="background:${x.in_own_grid ? COLOURS.own : COLOURS.outside}"></span><b>${esc(x.name)}</b> <small class="muted">${esc(age(x.at))}</small>
${x.in_own_grid ? '' : ` <b class="err">${esc(w('outsideOwn'))}</b>`}<br><small>${esc(w('at'))}: ${gridText(x.grid)} · ${esc(w('ownGrid'))}: ${ownText(x)}</small></li>`).join('')
      || `<li class="muted">${esc(w('noWorkers'))}</li>`;
  }

  async function positions() {
    const r = await send('GET', '/v1/workers/positions?on_duty=true');
    for (const x of (r.ok && r.body.workers) || []) own.set(x.person_id, x.own_grids || []);
    return r;
  }

  async function load() {
    if (!st.shown) return;
    if (!(can('cases.dispatch') || can('cases.supervise'))) { st.workers = []; clearSelection(); return; }
    const r = await positions();
    if (!r.ok) {
      st.workers = [];
      draw();
      $('#patrol-workers').innerHTML = `<li class="muted">${esc(r.status === 503 ? w('unavailable') : `${w('failed')}: ${r.body?.error?.message || r.status}`)}</li>`;
      return;
    }
    st.workers = (r.body.workers || []).sort((a, b) => a.in_own_grid - b.in_own_grid || a.name.localeCompare(b.name, 'zh'));
    draw();
  }

  // select shows a worker's track today, their figures and their grids' days without a patrol.
  async function select(person) {
    st.selected = person;
    draw();
    const x = st.workers.find((v) => v.person_id === person);
    const el = $('#patrol-day');
    el.hidden = false;
    el.innerHTML = '<p class="muted">…</p>';
    const r = await send('GET', `/v1/workers/${person}/track`);
    if (st.selected !== person) return;
    if (!r.ok) { el.innerHTML = `<p class="err">${esc(w('failed'))}: ${esc(r.body?.error?.message || r.status)}</p>`; return; }
    const f = r.body;
    const p = f.properties || {};
    map.getSource('worker-track')?.setData({ type: 'FeatureCollection', features: f.geometry?.coordinates?.length ? [{ type: 'Feature', geometry: f.geometry, properties: { person_id: person } }] : [] });
    fit((f.geometry?.coordinates || []).flat());
    el.innerHTML = `<h3>${esc(x?.name || person)} · ${esc(w('track'))} <small>${esc(p.date || '')}</small> <button type="button" class="link" id="patrol-clear">${esc(w('clear'))}</button></h3>
<table class="figures">
<tr><th>${esc(w('covered'))}</th><td id="fig-covered" data-value="${p.covered_share ?? ''}">${esc(pct(p.covered_share))}</td></tr>
<tr><th>${esc(w('outsideTime'))}</th><td id="fig-outside" data-value="${p.outside_minutes}">${Math.round(p.outside_minutes || 0)}${esc(w('min'))}</td></tr>
<tr><th>${esc(w('distance'))}</th><td id="fig-distance" data-value="${p.distance_m}">${esc(km(p.distance_m || 0))}</td></tr>
<tr><th>${esc(w('points'))}</th><td>${p.points ?? 0}</td></tr></table>
<h3>${esc(w('gridPatrols'))}</h3><ul id="patrol-grids"><li class="muted">…</li></ul>`;
    $('#patrol-clear').addEventListener('click', clearSelection);
    // The days without a patrol of each of the worker's own grids (and the grids below them).
    const grids = x?.own_grids?.length ? x.own_grids.map((g) => g.id) : (p.own_grids || []);
    const sums = await Promise.all(grids.map((g) => send('GET', `/v1/patrols/summary?grid=${g}`)));
    if (st.selected !== person) return;
    $('#patrol-grids').innerHTML = gridRows(sums.filter((s) => s.ok).flatMap((s) => s.body.grids || []));
  }

  // gridRows lists grids' days without a patrol (the summary's grids), the longest first.
  function gridRows(rows) {
    const key = (g) => (g.days_without_patrol === null ? Infinity : g.days_without_patrol);
    return [...rows].sort((a, b) => key(b) - key(a) || a.code.localeCompare(b.code)).map((g) => `<li data-grid="${g.grid_id}" data-days="${g.days_without_patrol ?? ''}"><b>${esc(g.name || g.code)}</b> <small>${esc(g.code)}</small><br><small>${esc(w('daysWithout'))}: ${
      g.days_without_patrol === null ? esc(w('never')) : g.days_without_patrol === 0 ? esc(w('patrolledToday')) : `<b class="err">${g.days_without_patrol}${esc(w('days'))}</b>`}${g.last_patrol ? ` · ${esc(w('lastPatrol'))} ${esc(fmtTime(g.last_patrol))}` : ''}</small></li>`).join('')
      || `<li class="muted">${esc(w('noPost'))}</li>`;
  }

  // A grid's subtree: the days without a patrol of every grid with a patrolling post in it.
  $('#patrol-grid-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const code = $('#patrol-grid').value.trim();
    const el = $('#patrol-grid-days');
    if (!code) { el.innerHTML = ''; return; }
    el.innerHTML = '<li class="muted">…</li>';
    const g = await send('GET', `/v1/grids/${encodeURIComponent(code)}`);
    if (!g.ok) { el.innerHTML = `<li class="err">${esc(w('noGrid'))}: ${esc(code)}</li>`; return; }
    const r = await send('GET', `/v1/patrols/summary?grid=${g.body.properties.id}`);
    el.innerHTML = r.ok ? gridRows(r.body.grids || []) : `<li class="err">${esc(w('failed'))}: ${esc(r.body?.error?.message || r.status)}</li>`;
  });

  function clearSelection() {
    st.selected = null;
    map.getSource('worker-track')?.setData(EMPTY);
    $('#patrol-day').hidden = true;
    draw();
  }

  map.on('click', 'worker-points', (e) => select(e.features[0].properties.person_id));
  map.on('mouseenter', 'worker-points', () => { map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', 'worker-points', () => { map.getCanvas().style.cursor = ''; });
  $('#patrol-workers').addEventListener('click', (e) => {
    const li = e.target.closest('li[data-person]');
    if (li) select(Number(li.dataset.person));
  });

  // ---- the case card: nearest workers by road ----

  // drawRoute draws the chosen worker's route; show also brings it into view (on a choice, not
  // when the card is drawn again after a change from the stream).
  const drawRoute = (show) => {
    const f = st.nearest.find((x) => x.properties.worker.person_id === st.chosen);
    const fs = [];
    if (f) {
      const line = f.geometry.coordinates; const x = f.properties.worker; const at = st.at;
      fs.push({ type: 'Feature', geometry: f.geometry, properties: { part: 'road', person_id: x.person_id } });
      if (line.length) {
        fs.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: [[x.lon, x.lat], line[0]] }, properties: { part: 'snap' } });
        fs.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: [line[line.length - 1], at] }, properties: { part: 'snap' } });
      }
      fs.push({ type: 'Feature', geometry: { type: 'Point', coordinates: at }, properties: { part: 'case' } });
    }
    map.getSource('worker-route')?.setData({ type: 'FeatureCollection', features: fs });
    if (f && show) fit([...f.geometry.coordinates, [f.properties.worker.lon, f.properties.worker.lat], st.at]);
    document.querySelectorAll('#nearest li[data-person]').forEach((li) => li.classList.toggle('open', Number(li.dataset.person) === st.chosen));
  };

  function forget() {
    st.caseId = null; st.nearest = []; st.chosen = null;
    map.getSource('worker-route')?.setData(EMPTY);
  }

  async function card(c) {
    const cardEl = $('#card');
    if (!cardEl || cardEl.hidden) return;
    cardEl.querySelector('.close')?.addEventListener('click', forget);
    const open = !['voided', 'merged', 'closed', 'evaluated'].includes(c.state);
    if (!open || !(can('cases.dispatch') || can('cases.supervise'))) { forget(); return; }
    const sec = document.createElement('section');
    sec.id = 'nearest-box';
    sec.innerHTML = `<h3>${esc(w('nearest'))}</h3><ol id="nearest"><li class="muted">…</li></ol><p id="nearest-msg" class="err"></p>`;
    const actions = cardEl.querySelector('#actions');
    cardEl.insertBefore(sec, actions?.previousElementSibling || null);
    const first = st.caseId !== c.id;
    if (first) { st.caseId = c.id; st.chosen = null; }
    st.at = [c.lon, c.lat];
    const r = await send('GET', `/v1/routes/nearest-workers?at=${c.lon},${c.lat}&n=5`);
    if (!sec.isConnected || st.caseId !== c.id) return;
    const list = sec.querySelector('#nearest');
    if (!r.ok) {
      list.innerHTML = '';
      sec.querySelector('#nearest-msg').textContent = r.status === 503 ? w('noRoads') : `${w('failed')}: ${r.body?.error?.message || r.status}`;
      st.nearest = []; drawRoute(false);
      return;
    }
    st.nearest = r.body.features || [];
    // Their own grids (where a dispatch to them names the post): from the positions answer.
    if (st.nearest.some((f) => !own.has(f.properties.worker.person_id))) await positions();
    if (!sec.isConnected || st.caseId !== c.id) return;
    for (const f of st.nearest) f.properties.worker.own_grids = own.get(f.properties.worker.person_id) || [];
    if (!st.nearest.some((f) => f.properties.worker.person_id === st.chosen)) st.chosen = st.nearest[0]?.properties.worker.person_id ?? null;
    const dispatchable = can('cases.dispatch') && ['filed', 'returned', 'dispatched'].includes(c.state);
    list.innerHTML = st.nearest.map((f) => {
      const x = f.properties.worker; const rt = f.properties.route;
      // A filed case's party is routing's suggestion; once dispatched, whom it was dispatched to.
      const mine = !['reported', 'filed', 'returned'].includes(c.state) && c.party?.kind === 'worker' && c.party.ref === String(x.person_id);
      return `<li data-person="${x.person_id}" data-length="${rt.length_m}" data-seconds="${rt.seconds}"><b>${esc(x.name)}</b> · ${esc(km(rt.length_m))} · ${esc(mins(rt.seconds))}
${x.in_own_grid ? '' : ` <b class="err">${esc(w('outsideOwn'))}</b>`}<br><small>${esc(w('ownGrid'))}: ${ownText(x)} · ${esc(age(x.at))}${rt.roads?.length ? ` · ${esc(w('viaRoads'))} ${esc(rt.roads.slice(0, 3).join('、'))}` : ''}</small>
<div class="buttons"><button type="button" data-route="${x.person_id}">${esc(w('route'))}</button>${dispatchable && !mine && x.own_grids?.length ? ` <button type="button" data-dispatch="${x.person_id}">${esc(w('dispatchHere'))}</button>` : ''}${mine ? ` <small class="tag">${esc(w('dispatched'))}</small>` : ''}</div></li>`;
    }).join('') || `<li class="muted">${esc(w('noNearest'))}</li>`;
    drawRoute(first);
    list.addEventListener('click', async (e) => {
      const b = e.target.closest('button');
      if (!b) return;
      if (b.dataset.route) { st.chosen = Number(b.dataset.route); drawRoute(true); return; }
      const f = st.nearest.find((n) => n.properties.worker.person_id === Number(b.dataset.dispatch));
      if (!f) return;
      const x = f.properties.worker;
      // The worker's own grid the case falls in, else their first: the post the party names.
      const g = x.own_grids.find((o) => (c.grid_chain || []).includes(o.id)) || x.own_grids[0];
      st.chosen = x.person_id; drawRoute(false);
      b.disabled = true;
      const req = { kind: 'dispatch', expect_version: c.version, party: { kind: 'worker', ref: String(x.person_id), name: x.name, grid: g.id, grid_code: g.code } };
      const reason = $('#reason')?.value.trim();
      if (reason) req.reason = reason;
      const res = await send('POST', `/v1/cases/${c.id}/events`, req);
      if (res.ok) { await refresh?.(c.id); return; }
      b.disabled = false;
      if (res.status === 409 && res.body?.error?.details?.version !== undefined) {
        await refresh?.(c.id);
        const m = $('#nearest-msg') || $('#card-msg');
        if (m) m.textContent = w('conflict');
        return;
      }
      sec.querySelector('#nearest-msg').textContent = `${w('failed')}: ${res.body?.error?.message || res.status}`;
    });
  }

  load();
  st.timer = setInterval(load, every);
  const api = { load, select, card, clearSelection, state: st };
  window.gridlinePatrols = api;
  return api;
}
