// The statistics page (issue #16, 统计考核; stats.html, /stats): filters (scope, group, period,
// bucket), two charts (Chart.js), the map of a chosen rate by basic grid (a choropleth over the
// grids of the vector tiles, whose feature id is the grid id), a sortable table, the CSV of the
// same figures and links to the monthly brief. Everything comes from GET /v1/stats (docs/api.md);
// it needs cases.read, so the page asks to sign in first, as the console does.
import * as maplibregl from 'maplibre-gl';
import { lang, setLang } from './i18n.js';
import { initAccount, session, can } from './account.js';
import { get, send, esc } from './cases-common.js';
import { Chart, COLOURS } from './charts.js';

const words = {
  zh: {
    title: '统计考核', scope: '范围', group: '分组', period: '时段', month: '月份', from: '起', to: '止', bucket: '时间分段', rate: '指标',
    apply: '查询', csv: '下载 CSV', brief: '月度简报', p_month: '按月', p_custom: '自定义',
    g_grid: '网格', g_community: '社区', g_subdistrict: '街道', g_district: '区县', g_department: '部门', g_worker: '网格员',
    b_none: '不分段', b_day: '按日', b_week: '按周', b_month: '按月', signInFirst: '请先登录（需要案件查看权限）',
    rows: '行', total: '合计', noGrids: '地图：没有网格数据', name: '名称', key: '编码', bucketCol: '时段',
    reported: '上报', filed: '立案', closed: '结案', due: '应结', closed_on_time: '按期结案', dispatched: '派遣', points: '积分',
    on_time_close_rate: '按期结案率', close_rate: '结案率', rework_rate: '返工率', accurate_dispatch_rate: '准确派遣率',
    valid_report_rate: '有效上报率', missed_report_rate: '漏报率', byGroup: '各组', byBucket: '各时段', mapOf: '地图：各网格',
  },
  en: {
    title: 'Statistics', scope: 'Scope', group: 'Group', period: 'Period', month: 'Month', from: 'From', to: 'To', bucket: 'Bucket', rate: 'Figure',
    apply: 'Apply', csv: 'Download CSV', brief: 'Monthly brief', p_month: 'Month', p_custom: 'Custom',
    g_grid: 'Grid', g_community: 'Community', g_subdistrict: 'Subdistrict', g_district: 'District', g_department: 'Department', g_worker: 'Worker',
    b_none: 'None', b_day: 'Day', b_week: 'Week', b_month: 'Month', signInFirst: 'Sign in first (cases.read is needed)',
    rows: 'rows', total: 'Total', noGrids: 'Map: no grid rows', name: 'Name', key: 'Code', bucketCol: 'Bucket',
    reported: 'Reported', filed: 'Filed', closed: 'Closed', due: 'Due', closed_on_time: 'Closed on time', dispatched: 'Dispatched', points: 'Points',
    on_time_close_rate: 'On-time close rate', close_rate: 'Close rate', rework_rate: 'Rework rate', accurate_dispatch_rate: 'Accurate dispatch rate',
    valid_report_rate: 'Valid report rate', missed_report_rate: 'Missed-report rate', byGroup: 'by group', byBucket: 'by bucket', mapOf: 'Map: by grid',
  },
};
const w = (k) => words[lang][k] ?? words.zh[k] ?? k;
const $ = (s) => document.querySelector(s);

// The rates, and whether lower is better (the map's colours turn around for those).
const RATES = ['on_time_close_rate', 'close_rate', 'rework_rate', 'accurate_dispatch_rate', 'valid_report_rate', 'missed_report_rate'];
const LOWER_BETTER = new Set(['rework_rate', 'missed_report_rate']);
const COUNTS = ['reported', 'filed', 'closed', 'due', 'closed_on_time', 'dispatched'];
// rateOf recomputes a rate from summed counts (for a chart over buckets), as the contract defines it.
const RATE_OF = {
  on_time_close_rate: (r) => ratio(r.closed_on_time, r.due - r.postponed),
  close_rate: (r) => ratio(r.closed, r.filed),
  rework_rate: (r) => ratio(r.reworked, r.closed),
  accurate_dispatch_rate: (r) => ratio(r.dispatched - r.redispatched, r.dispatched),
  valid_report_rate: (r) => ratio(r.patrol_valid, r.patrol_reported),
  missed_report_rate: (r) => ratio(r.missed, r.patrol_valid + r.missed),
};
const ratio = (a, b) => (b > 0 ? a / b : null);
const pct = (v) => (v === null || v === undefined ? '—' : (v * 100).toFixed(1) + '%');

const st = { rows: [], gridRows: [], sort: { key: null, dir: 1 }, charts: {}, gridSource: null, stated: new Set(), query: '', seq: 0 };
let map;

// ---- filters --------------------------------------------------------------------------------

function params(over = {}) {
  const p = new URLSearchParams();
  const scope = $('#f-scope').value.trim().split(/\s/)[0];
  if (scope) p.set('scope', scope);
  p.set('group', over.group || $('#f-group').value);
  if ($('#f-period').value === 'month') p.set('month', $('#f-month').value);
  else { p.set('from', $('#f-from').value); p.set('to', $('#f-to').value); }
  const bucket = over.bucket || $('#f-bucket').value;
  if (bucket !== 'none') p.set('bucket', bucket);
  return p;
}

function initFilters() {
  const q = new URLSearchParams(location.search);
  const now = new Date();
  $('#f-month').value = q.get('month') || `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}`;
  if (q.get('from') || q.get('to')) { $('#f-period').value = 'custom'; $('#f-from').value = q.get('from') || ''; $('#f-to').value = q.get('to') || ''; }
  $('#f-scope').value = q.get('scope') || '';
  $('#f-group').value = q.get('group') || 'community';
  $('#f-bucket').value = q.get('bucket') || 'none';
  $('#f-rate').innerHTML = RATES.map((r) => `<option value="${r}">${esc(w(r))}</option>`).join('');
  $('#f-rate').value = RATES.includes(q.get('rate')) ? q.get('rate') : 'on_time_close_rate';
  const period = () => {
    const custom = $('#f-period').value === 'custom';
    $('#l-month').hidden = custom; $('#l-from').hidden = !custom; $('#l-to').hidden = !custom;
  };
  period();
  $('#f-period').addEventListener('change', period);
  $('#filters').addEventListener('submit', (e) => { e.preventDefault(); load(); });
  for (const id of ['#f-group', '#f-bucket', '#f-month', '#f-from', '#f-to']) $(id).addEventListener('change', () => load());
  $('#f-rate').addEventListener('change', () => { drawCharts(); paintMap(); });
  // The scope: grids found by code prefix or name (GET /v1/grids), down to basic grids.
  let timer;
  $('#f-scope').addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const v = $('#f-scope').value.trim();
      if (!v || v.includes(' ')) return;
      const by = /^\d+$/.test(v) ? `code=${encodeURIComponent(v)}` : `name=${encodeURIComponent(v)}`;
      const r = await send('GET', `/v1/grids?${by}&layer=comprehensive&geometry=false&limit=20`);
      if (!r.ok) return;
      $('#scopes').innerHTML = (r.body.features || []).filter((f) => f.properties.level !== 'micro')
        .map((f) => `<option value="${esc(f.properties.code)} ${esc(f.properties.name)}"></option>`).join('');
    }, 200);
  });
  $('#f-scope').addEventListener('change', () => load());
}

// ---- data -----------------------------------------------------------------------------------

async function load() {
  if (!session.signed_in || !can('cases.read')) return;
  const p = params();
  if (p.get('from') === '' || p.get('to') === '') return; // a custom period waits for both dates
  const seq = ++st.seq;
  $('#msg').textContent = '';
  document.body.dataset.loaded = '0';
  const u = new URL(location.href);
  u.search = p.toString() + `&rate=${$('#f-rate').value}${lang === 'en' ? '&lang=en' : ''}`;
  history.replaceState(null, '', u);
  try {
    const grid = params({ group: 'grid', bucket: 'none' });
    const [body, gridBody] = await Promise.all([get(`/v1/stats?${p}`), p.get('group') === 'grid' && !p.get('bucket') ? null : get(`/v1/stats?${grid}`)]);
    if (seq !== st.seq) return;
    st.rows = body.rows || [];
    st.total = body.total;
    st.gridRows = (gridBody || body).rows || [];
    st.query = p.toString();
    $('#summary').textContent = `${body.scope?.name || ''} ${body.from} – ${body.to} · ${st.rows.length} ${w('rows')}`;
    const csv = new URLSearchParams(p); csv.set('format', 'csv');
    $('#csv').href = `/v1/stats?${csv}`;
    $('#csv').setAttribute('download', `stats-${p.get('group')}-${p.get('month') || p.get('from') + '_' + p.get('to')}.csv`);
    const month = p.get('month') || (p.get('from') || '').slice(0, 7);
    const scope = body.scope?.code || p.get('scope') || '';
    $('#brief').href = `/v1/stats/brief.html?scope=${encodeURIComponent(scope)}&month=${month}`;
    $('#brief-pdf').href = `/v1/stats/brief.pdf?scope=${encodeURIComponent(scope)}&month=${month}`;
    drawCharts();
    drawTable();
    paintMap();
    document.body.dataset.loaded = '1';
    document.body.dataset.query = st.query;
  } catch (e) {
    $('#msg').textContent = e.message;
    document.body.dataset.loaded = 'error';
  }
}

// ---- charts ---------------------------------------------------------------------------------

function sumBy(rows, keyOf) {
  const out = new Map();
  for (const r of rows) {
    const k = keyOf(r);
    const s = out.get(k) || { key: k, name: r.name, reported: 0, filed: 0, closed: 0, due: 0, postponed: 0, closed_on_time: 0, dispatched: 0, redispatched: 0, reworked: 0, patrol_reported: 0, patrol_valid: 0, missed: 0 };
    for (const f of Object.keys(s)) if (typeof s[f] === 'number') s[f] += r[f] || 0;
    out.set(k, s);
  }
  return [...out.values()];
}

function drawCharts() {
  const rate = $('#f-rate').value;
  const bucketed = st.rows.some((r) => r.bucket);
  const groups = sumBy(st.rows, (r) => r.key).slice(0, 40);
  const chart = (id, config) => {
    st.charts[id]?.destroy();
    st.charts[id] = new Chart($(id), { ...config, options: { animation: false, maintainAspectRatio: false, ...config.options } });
  };
  chart('#chart-rate', { type: 'bar', data: { labels: groups.map((g) => g.name || g.key), datasets: [
    { label: `${w(rate)} · ${w('byGroup')} (%)`, data: groups.map((g) => { const v = RATE_OF[rate](g); return v === null ? null : Math.round(v * 1000) / 10; }), backgroundColor: COLOURS.rate },
  ] }, options: { scales: { y: { beginAtZero: true, max: 100 } } } });
  const series = bucketed ? sumBy(st.rows, (r) => r.bucket).sort((a, b) => a.key.localeCompare(b.key)) : groups;
  chart('#chart-counts', { type: bucketed ? 'line' : 'bar', data: { labels: series.map((s) => (bucketed ? s.key : s.name || s.key)), datasets: [
    { label: w('reported'), data: series.map((s) => s.reported), backgroundColor: COLOURS.reported, borderColor: COLOURS.reported },
    { label: w('closed'), data: series.map((s) => s.closed), backgroundColor: COLOURS.closed, borderColor: COLOURS.closed },
  ] }, options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { title: { display: true, text: bucketed ? w('byBucket') : w('byGroup') } } } });
  window.gridlineStats.charts = st.charts;
}

// ---- table ----------------------------------------------------------------------------------

function columns() {
  const cols = [['key', w('key')], ['name', w('name')]];
  if (st.rows.some((r) => r.bucket)) cols.push(['bucket', w('bucketCol')]);
  for (const c of COUNTS) cols.push([c, w(c)]);
  for (const r of RATES) cols.push([r, w(r)]);
  cols.push(['points', w('points')]);
  return cols;
}

function drawTable() {
  const cols = columns();
  const { key, dir } = st.sort;
  const rows = [...st.rows];
  if (key) {
    rows.sort((a, b) => {
      const x = a[key]; const y = b[key];
      if (x === y) return 0;
      if (x === null || x === undefined) return 1; // no figure: last either way
      if (y === null || y === undefined) return -1;
      return (typeof x === 'number' ? x - y : String(x).localeCompare(String(y))) * dir;
    });
  }
  const cell = (r, c) => (RATES.includes(c) ? pct(r[c]) : typeof r[c] === 'number' ? String(Math.round(r[c] * 10) / 10) : esc(r[c] ?? ''));
  $('#table thead').innerHTML = `<tr>${cols.map(([c, label]) => `<th data-key="${c}" class="${key === c ? (dir > 0 ? 'asc' : 'desc') : ''}">${esc(label)}</th>`).join('')}</tr>`;
  const total = st.total ? `<tr class="total"><td>${esc(w('total'))}</td>${cols.slice(1).map(([c]) => `<td>${c === 'name' || c === 'bucket' ? '' : cell(st.total, c)}</td>`).join('')}</tr>` : '';
  $('#table tbody').innerHTML = rows.map((r) => `<tr data-key="${esc(r.key)}">${cols.map(([c]) => `<td>${cell(r, c)}</td>`).join('')}</tr>`).join('') + total;
}

// ---- the map --------------------------------------------------------------------------------

const RAMP = ['#d7191c', '#fdae61', '#ffffbf', '#a6d96a', '#1a9641'];

function paintMap() {
  if (!map || !st.gridSource) return;
  const rate = $('#f-rate').value;
  const ramp = LOWER_BETTER.has(rate) ? [...RAMP].reverse() : RAMP;
  for (const id of st.stated) map.removeFeatureState({ source: st.gridSource, sourceLayer: 'grids', id });
  st.stated.clear();
  let n = 0;
  for (const r of st.gridRows) {
    if (!r.grid_id) continue;
    const v = r[rate];
    map.setFeatureState({ source: st.gridSource, sourceLayer: 'grids', id: r.grid_id }, { rate: v === null || v === undefined ? -1 : v });
    st.stated.add(r.grid_id);
    n++;
  }
  map.setPaintProperty('stats-fill', 'fill-color', ['case', ['<', ['coalesce', ['feature-state', 'rate'], -1], 0], 'rgba(0,0,0,0)',
    ['interpolate', ['linear'], ['feature-state', 'rate'], 0, ramp[0], 0.5, ramp[1], 0.8, ramp[2], 0.9, ramp[3], 1, ramp[4]]]);
  $('#legend').innerHTML = n ? `<small>${esc(w('mapOf'))} · ${esc(w(rate))}</small><div class="bar" style="background:linear-gradient(to right, ${ramp[0]}, ${ramp[1]} 50%, ${ramp[2]} 80%, ${ramp[3]} 90%, ${ramp[4]})"></div>
<div class="ends"><span>0%</span><span>50%</span><span>80%</span><span>100%</span></div>` : `<small class="muted">${esc(w('noGrids'))}</small>`;
  document.body.dataset.mapGrids = String(n);
}

async function initMap() {
  const style = await get('/styles/default.json');
  style.layers = style.layers.filter((l) => l.type === 'line' || l.type === 'background');
  const grids = style.layers.find((l) => l['source-layer'] === 'grids');
  st.gridSource = grids?.source || Object.keys(style.sources)[0];
  // The choropleth under the outlines: a grid's fill is its figure's colour, none without one.
  const at = style.layers.findIndex((l) => l.type === 'line');
  style.layers.splice(at < 0 ? style.layers.length : at, 0, { id: 'stats-fill', type: 'fill', source: st.gridSource, 'source-layer': 'grids', paint: { 'fill-color': 'rgba(0,0,0,0)', 'fill-opacity': 0.75 } });
  let bounds = null;
  try {
    for (const c of (await get('/ogc/collections')).collections || []) {
      const e = c.extent?.spatial?.bbox?.[0];
      if (e?.length === 4 && e.every(Number.isFinite)) bounds = bounds ? [Math.min(bounds[0], e[0]), Math.min(bounds[1], e[1]), Math.max(bounds[2], e[2]), Math.max(bounds[3], e[3])] : e.slice();
    }
  } catch { /* none */ }
  maplibregl.setWorkerUrl(new URL('maplibre-gl-worker.mjs', import.meta.url).href);
  const opts = { container: 'map', style, attributionControl: false, preserveDrawingBuffer: true };
  Object.assign(opts, bounds ? { bounds: [[bounds[0], bounds[1]], [bounds[2], bounds[3]]], fitBoundsOptions: { padding: 20 } } : { center: [113.65, 34.75], zoom: 12 });
  map = new maplibregl.Map(opts);
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  // Basic grids are in the tiles from zoom 12: the map opens there at least.
  map.once('load', () => { if (map.getZoom() < 12) map.setZoom(12); });
  const popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false });
  map.on('mousemove', 'stats-fill', (e) => {
    const f = e.features[0];
    const r = st.gridRows.find((x) => x.grid_id === f.id);
    if (!r) { popup.remove(); return; }
    const rate = $('#f-rate').value;
    popup.setLngLat(e.lngLat).setHTML(`<b>${esc(r.name)}</b> ${esc(r.key)}<br>${esc(w(rate))}: ${pct(r[rate])}`).addTo(map);
  });
  map.on('mouseleave', 'stats-fill', () => popup.remove());
  window.gridlineMap = map;
  await new Promise((ok) => (map.loaded() ? ok() : map.once('load', ok)));
}

// ---- start ----------------------------------------------------------------------------------

function renderText() {
  document.title = `${w('title')} · gridline`;
  for (const el of document.querySelectorAll('[data-w]')) el.textContent = w(el.dataset.w);
  $('#lang').textContent = lang === 'en' ? '中文' : 'English';
}

$('#table').addEventListener('click', (e) => {
  const th = e.target.closest('th[data-key]');
  if (!th) return;
  const key = th.dataset.key;
  st.sort = { key, dir: st.sort.key === key ? -st.sort.dir : (typeof st.rows[0]?.[key] === 'number' || RATES.includes(key) ? -1 : 1) };
  drawTable();
});

async function start() {
  setLang(new URLSearchParams(location.search).get('lang') || 'zh');
  renderText();
  window.gridlineStats = { st, load };
  $('#lang').addEventListener('click', () => { const u = new URL(location.href); u.searchParams.set('lang', lang === 'en' ? 'zh' : 'en'); location.href = u.href; });
  initFilters();
  await initMap();
  let signedIn = null;
  await initAccount(async () => {
    if (signedIn === session.signed_in) return;
    signedIn = session.signed_in;
    document.body.dataset.signedIn = session.signed_in ? '1' : '0';
    if (!session.signed_in || !can('cases.read')) { $('#msg').textContent = w('signInFirst'); return; }
    $('#msg').textContent = '';
    await load();
  });
  document.body.dataset.ready = '1';
}

start().catch((e) => { document.body.dataset.error = e.message; console.error(e); });
