// gridline's web map: MapLibre GL JS over gridline's own vector tiles and API, no external
// resources by default. Chinese first, English on request. The URL hash keeps the view.
import * as maplibregl from 'maplibre-gl';
import { wgs84ToGcj02, gcj02ToWgs84 } from './gcj02.js';
import { t, lang, setLang, levelName, tileLayerName, layerName, roleName, kindName } from './i18n.js';
import { initAudit } from './audit.js';
import { initAccount, render as renderAccount, cardExtras, wireCard } from './account.js';
import { initEdit, editing, accountChanged as editAccountChanged, render as renderEdit } from './edit.js';

const $ = (sel) => document.querySelector(sel);
const FIXED = ['districts', 'subdistricts', 'communities', 'grids', 'micros', 'special'];
// Which label levels show from which zoom (the tiles carry each label over its polygon's range).
const LABEL_ZOOM = { districts: [7, 11], subdistricts: [10, 14], communities: [12.5, 16], grids: [14, 24], micros: [16, 24], special: [15, 24] };
// What a click picks first when several polygons are under the cursor.
const CLICK_ORDER = ['special', 'micros', 'grids', 'communities', 'subdistricts', 'districts'];
// How many grids the hierarchy tree lists at a time; "more" lists the next page.
const TREE_PAGE = 200;
// The selection source holds nothing when nothing is selected.
const EMPTY = { type: 'FeatureCollection', features: [] };

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

class APIError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `HTTP ${status}`);
    this.code = body?.error?.code;
  }
}

async function api(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) throw new APIError(res.status, body);
  return body;
}

// ---- state and the URL hash ----------------------------------------------------------------

const state = {
  crs: 'wgs84', // the datum the map is drawn in: gcj02 when a GCJ-02 basemap is configured
  cursorDatum: 'wgs84',
  here: false,
  selected: null, // {code, id, tileLayer}
  card: null, // () => html, re-rendered when the language changes
  hidden: new Set(),
  thematic: [],
};

function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const out = { sel: p.get('sel'), lang: p.get('lang') };
  const m = (p.get('map') || '').split('/').map(Number);
  if (m.length === 3 && m.every(Number.isFinite)) out.view = { zoom: m[0], center: [m[2], m[1]] };
  return out;
}

let map;
function writeHash() {
  if (!map) return;
  const c = map.getCenter();
  const z = map.getZoom();
  const prec = Math.max(0, Math.ceil(Math.log10(Math.pow(2, z)) + 0.5));
  const p = new URLSearchParams();
  p.set('map', `${z.toFixed(2)}/${c.lat.toFixed(prec)}/${c.lng.toFixed(prec)}`);
  if (state.selected) p.set('sel', state.selected.code);
  if (lang === 'en') p.set('lang', 'en');
  const h = '#' + p.toString().replace(/%2F/g, '/');
  if (h !== location.hash) history.replaceState(history.state, '', h);
}

// ---- datum helpers -------------------------------------------------------------------------

const crsQuery = (sep = '?') => (state.crs === 'gcj02' ? `${sep}crs=gcj02` : '');
function toWGS84(lng, lat) { return state.crs === 'gcj02' ? gcj02ToWgs84(lng, lat) : [lng, lat]; }

function bboxOf(geom) {
  let b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      b = [Math.min(b[0], c[0]), Math.min(b[1], c[1]), Math.max(b[2], c[0]), Math.max(b[3], c[1])];
    } else c.forEach(walk);
  };
  if (geom?.coordinates) walk(geom.coordinates);
  return Number.isFinite(b[0]) ? b : null;
}

function tileLayerOf(p) {
  if (p.layer === 'comprehensive') return { district: 'districts', subdistrict: 'subdistricts', community: 'communities', grid: 'grids', micro: 'micros' }[p.level] || null;
  if (p.layer === 'special') return 'special';
  return p.layer;
}

// ---- the style -----------------------------------------------------------------------------

async function buildStyle(config) {
  const style = await api(`/styles/default.json${crsQuery()}`);
  const polygonLayers = [];
  for (const l of style.layers) {
    const m = /^(.*)-fill$/.exec(l.id);
    if (m) polygonLayers.push({ name: m[1], source: l.source, minzoom: l.minzoom });
  }
  state.polygonLayers = polygonLayers;
  state.thematic = polygonLayers.map((l) => l.name).filter((n) => !FIXED.includes(n));
  const labelSource = style.layers.find((l) => l['source-layer'] === 'labels')?.source;
  if (config.basemap_url) {
    style.sources.basemap = {
      type: 'raster', tiles: [config.basemap_url], tileSize: 256, maxzoom: 19,
      attribution: config.basemap_attribution || '',
    };
    style.layers.splice(1, 0, { id: 'basemap', type: 'raster', source: 'basemap' });
  }
  // The selection, above everything else, drawn from the grid's own GeoJSON (the card's
  // /v1/grids answer) rather than filtered out of tiles: it shows at any zoom, whole, and its wide
  // outline never breaks at a tile seam (tiles leave out polygons too far off to paint their own,
  // thinner outlines there).
  style.sources.selection = { type: 'geojson', data: EMPTY };
  style.layers.push({ id: 'hl-fill', type: 'fill', source: 'selection', paint: { 'fill-color': '#e8590c', 'fill-opacity': 0.18 } });
  style.layers.push({ id: 'hl-line', type: 'line', source: 'selection', paint: { 'line-color': '#e8590c', 'line-width': 4 } });
  // Text labels: no glyphs URL, so MapLibre draws every glyph with the browser's own fonts (TinySDF).
  if (labelSource) {
    for (const l of polygonLayers) {
      const [minzoom, maxzoom] = LABEL_ZOOM[l.name] || [15, 24];
      const big = l.name === 'districts' || l.name === 'subdistricts' || l.name === 'communities';
      style.layers.push({
        id: `labels-${l.name}`, type: 'symbol', source: labelSource, 'source-layer': 'labels', minzoom, maxzoom,
        filter: ['==', ['get', 'polygon_layer'], l.name],
        layout: {
          'text-field': ['step', ['zoom'], ['get', 'name'], Math.max(minzoom + 2, 16), ['concat', ['get', 'name'], '\n', ['get', 'code']]],
          'text-font': ['sans-serif'], 'text-size': big ? 14 : 12, 'text-anchor': 'top', 'text-offset': [0, 0.5],
          'text-max-width': 8,
        },
        paint: { 'text-color': big ? '#1b2b4b' : '#3b3b3b', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 },
      });
    }
  }
  return style;
}

function paintOf(id, prop) {
  const l = map.getStyle().layers.find((x) => x.id === id);
  let v = l?.paint?.[prop];
  if (Array.isArray(v) && v[0] === 'case') v = v[2];
  return typeof v === 'string' ? v : null;
}

// ---- panels: layers, legend ----------------------------------------------------------------

function setVisible(name, on) {
  for (const id of [`${name}-fill`, `${name}-line`, `labels-${name}`]) {
    if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
  }
  on ? state.hidden.delete(name) : state.hidden.add(name);
}

function renderLayers() {
  const box = $('#layers');
  const item = (name, label) => `<label><input type="checkbox" data-layer="${esc(name)}" ${state.hidden.has(name) ? '' : 'checked'}> ${esc(label)}</label>`;
  const names = state.polygonLayers.map((l) => l.name);
  let html = `<h3>${t('layers')}</h3><div class="group"><b>${t('levels')}</b>`;
  html += ['districts', 'subdistricts', 'communities', 'grids', 'micros'].filter((n) => names.includes(n)).map((n) => item(n, tileLayerName(n))).join('');
  html += `</div><div class="group"><b>${t('specialGroup')}</b>${names.includes('special') ? item('special', tileLayerName('special')) : ''}</div>`;
  if (state.thematic.length) html += `<div class="group"><b>${t('thematic')}</b>${state.thematic.map((n) => item(n, tileLayerName(n))).join('')}</div>`;
  html += `<div class="group">${item('__labels', t('labels'))}`;
  if (map.getLayer('basemap')) html += item('__basemap', t('basemap'));
  html += '</div>';
  box.innerHTML = html;
  box.querySelectorAll('input[data-layer]').forEach((el) => el.addEventListener('change', () => {
    const n = el.dataset.layer;
    if (n === '__labels') {
      for (const l of state.polygonLayers) if (map.getLayer(`labels-${l.name}`)) map.setLayoutProperty(`labels-${l.name}`, 'visibility', el.checked && !state.hidden.has(l.name) ? 'visible' : 'none');
      if (map.getLayer('labels-point')) map.setLayoutProperty('labels-point', 'visibility', el.checked ? 'visible' : 'none');
      el.checked ? state.hidden.delete(n) : state.hidden.add(n);
    } else if (n === '__basemap') {
      map.setLayoutProperty('basemap', 'visibility', el.checked ? 'visible' : 'none');
      el.checked ? state.hidden.delete(n) : state.hidden.add(n);
    } else setVisible(n, el.checked);
  }));
}

function renderLegend() {
  const rows = state.polygonLayers.map((l) => {
    const fill = paintOf(`${l.name}-fill`, 'fill-color') || '#ccc';
    const op = map.getPaintProperty(`${l.name}-fill`, 'fill-opacity') ?? 0.35;
    const line = paintOf(`${l.name}-line`, 'line-color') || '#666';
    const dashed = map.getPaintProperty(`${l.name}-line`, 'line-dasharray') ? 'dashed' : 'solid';
    const bg = op > 0 ? fill : 'transparent';
    return `<div class="row"><span class="sw" style="background:${esc(bg)};border:2px ${dashed} ${esc(line)}"></span>${esc(tileLayerName(l.name))} <small>z${l.minzoom}+</small></div>`;
  });
  const vacant = map.getStyle().layers.find((x) => x.id === 'grids-fill')?.paint?.['fill-color'];
  if (Array.isArray(vacant)) rows.push(`<div class="row"><span class="sw" style="background:${esc(vacant[3])}"></span>${t('vacantLegend')}</div>`);
  rows.push(`<div class="row"><span class="dot" style="background:#2b8a3e"></span><span class="dot" style="background:#c92a2a"></span>${t('labelPoint')}</div>`);
  rows.push(`<div class="row"><span class="sw" style="border:3px solid #e8590c"></span>${t('highlight')}</div>`);
  $('#legend').innerHTML = `<h3>${t('legend')}</h3>${rows.join('')}<div class="datum">${t('mapDatum')}: ${state.crs === 'gcj02' ? 'GCJ-02' : 'WGS84'}${map.getLayer('basemap') ? '' : ' · ' + t('noBasemap')}</div>`;
}

// ---- the card ------------------------------------------------------------------------------

function showCard(render) {
  state.card = render;
  const el = $('#card');
  el.hidden = false;
  el.innerHTML = `<button class="close" title="${t('close')}">×</button>` + render();
  el.querySelector('.close').addEventListener('click', () => { el.hidden = true; state.card = null; clearSelection(); });
  el.querySelectorAll('[data-select]').forEach((a) => a.addEventListener('click', (e) => { e.preventDefault(); select(a.dataset.select); }));
  wireCard(el);
}

function gridLink(g) {
  return `<a href="#" data-select="${esc(g.code)}">${esc(g.name)}</a> <code>${esc(g.code)}</code>`;
}

function peopleList(list, vacant) {
  const items = (list || []).map((s) => {
    const fb = s.fallback ? ` <span class="tag fb">${t('fallback')}${s.from_grid ? ' ' + t('from') + ' ' + esc(s.from_grid) : ''}</span>` : '';
    const phone = s.phone ? ` <a href="tel:${esc(s.phone)}">${esc(s.phone)}</a>` : '';
    return `<li>${esc(roleName(s.role))}: ${esc(s.name)}${phone}${fb}</li>`;
  });
  if (vacant) items.unshift(`<li class="vacant">${t('vacant')}</li>`);
  return items.length ? `<ul class="people">${items.join('')}</ul>` : `<p>${t('none')}</p>`;
}

function gridCard(f, versions) {
  const p = f.properties;
  return () => {
    const fb = p.four_bounds || {};
    const bounds = ['east', 'south', 'west', 'north'].filter((k) => fb[k]).map((k) => `<tr><th>${t(k)}</th><td>${esc(fb[k])}</td></tr>`).join('');
    const hist = (versions || []).map((v) => `<li>v${esc(v.properties.version)}: ${esc(v.properties.valid_from)} – ${esc(v.properties.valid_to || t('current'))}</li>`).join('');
    const own = p.staff || [];
    const fallback = (p.responsible || []).filter((r) => r.fallback);
    return `<h2 data-code="${esc(p.code)}">${esc(p.name)}</h2>
<table>
<tr><th>${t('code')}</th><td><code class="grid-code">${esc(p.code)}</code></td></tr>
<tr><th>${t('level')}</th><td>${esc(levelName(p.level))} · ${esc(layerName(p.layer))}${p.kind ? ' · ' + esc(kindName(p.kind)) : ''}</td></tr>
<tr><th>${t('parents')}</th><td class="chain">${(p.parents || []).map(gridLink).join(' › ') || t('none')}</td></tr>
<tr><th>${t('households')}</th><td>${esc(p.households ?? '')}</td></tr>
<tr><th>${t('population')}</th><td>${esc(p.population ?? '')}</td></tr>
<tr><th>${t('children')}</th><td>${esc(p.child_count ?? 0)}</td></tr>
<tr><th>${t('version')}</th><td>v${esc(p.version)}: ${t('validFrom')} ${esc(p.valid_from)}${p.valid_to ? ', ' + t('validTo') + ' ' + esc(p.valid_to) : ' (' + t('current') + ')'}</td></tr>
</table>
<h3>${t('staff')}</h3>${peopleList(own, p.vacant)}${fallback.length ? `<h3>${t('responsible')} (${t('fallback')})</h3>${peopleList(fallback)}` : ''}
${bounds ? `<h3>${t('fourBounds')}</h3><table class="bounds">${bounds}</table>` : ''}
${hist ? `<h3>${t('history')}</h3><ul>${hist}</ul>` : ''}${cardExtras(p)}`;
  };
}

function errorCard(err) {
  return () => `<h2>${t('error')}</h2><p class="err">${esc(err.code ? err.code + ': ' : '')}${esc(err.message)}</p>`;
}

// ---- selection -----------------------------------------------------------------------------

function clearSelection() {
  state.selected = null;
  map.getSource('selection')?.setData(EMPTY);
  writeHash();
}

// highlight draws the grid feature f (from /v1/grids, in the map's datum) as the selection.
function highlight(f) {
  map.getSource('selection')?.setData({ type: 'Feature', id: f.properties.id, geometry: f.geometry, properties: { id: f.properties.id, code: f.properties.code } });
}

let selectSeq = 0;
async function select(code, { fly = true } = {}) {
  const seq = ++selectSeq;
  try {
    const ref = encodeURIComponent(code);
    const [f, versions] = await Promise.all([
      api(`/v1/grids/${ref}${crsQuery()}`),
      api(`/v1/grids/${ref}/versions?geometry=false`).then((v) => v.features).catch(() => null),
    ]);
    if (seq !== selectSeq) return;
    const p = f.properties;
    const tl = tileLayerOf(p);
    state.selected = { code: p.code, id: p.id, tileLayer: tl };
    highlight(f);
    // Make sure the selected layer is visible.
    if (tl && state.hidden.has(tl)) { setVisible(tl, true); renderLayers(); }
    showCard(gridCard(f, versions));
    const b = bboxOf(f.geometry);
    if (fly && b) {
      const minzoom = state.polygonLayers.find((l) => l.name === tl)?.minzoom ?? 0;
      map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 60, maxZoom: 18, minZoom: minzoom, duration: 800 });
      // fitBounds has no minZoom: keep the selected level drawable.
      map.once('moveend', () => { if (map.getZoom() < minzoom) map.zoomTo(minzoom); });
    }
    writeHash();
  } catch (err) {
    if (seq === selectSeq) showCard(errorCard(err));
  }
}

// ---- what is here --------------------------------------------------------------------------

let hereMarker;
async function resolveAt(lngLat) {
  const { lng, lat } = lngLat;
  hereMarker ??= new maplibregl.Marker({ color: '#e8590c' });
  hereMarker.setLngLat([lng, lat]).addTo(map);
  try {
    const r = await api(`/v1/resolve?lon=${lng.toFixed(7)}&lat=${lat.toFixed(7)}&crs=${state.crs}`);
    showCard(() => {
      const chain = (r.chain || []).map((g) => `<li><b>${esc(levelName(g.level))}</b> ${gridLink(g)}${peopleList(g.responsible)}</li>`).join('');
      const extra = (list, title) => (list?.length ? `<h3>${title}</h3><ul>${list.map((g) => `<li>${gridLink(g)}${g.kind ? ' · ' + esc(kindName(g.kind)) : ''}${g.layer && g.layer !== 'special' ? ' · ' + esc(layerName(g.layer)) : ''}${peopleList(g.responsible)}</li>`).join('')}</ul>` : '');
      const nb = r.near_boundary ? `<p class="near">${t('nearBoundary')}: ${gridLink(r.near_boundary)} ${Number(r.near_boundary.distance_m).toFixed(1)} ${t('m')}${r.on_boundary ? ' · ' + t('onBoundary') : ''}</p>` : '';
      const near = r.nearest ? `<p>${t('nearest')}: ${gridLink(r.nearest)} ${r.nearest.distance_m != null ? Number(r.nearest.distance_m).toFixed(0) + ' ' + t('m') : ''}</p>` : '';
      return `<h2 class="here-title">${t('here')}</h2>
<p>${t('point')}: WGS84 ${r.wgs84.lon.toFixed(6)}, ${r.wgs84.lat.toFixed(6)} · ${r.covered ? t('covered') : t('notCovered')}</p>
${chain ? `<h3>${t('chain')}</h3><ol class="chain-list">${chain}</ol>` : ''}
${r.boundary ? `<p>${t('boundaryDist')}: ${Number(r.boundary.distance_m).toFixed(1)} ${t('m')}</p>` : ''}
${nb}${near}${extra(r.special, t('special'))}${extra(r.thematic, t('thematicGrids'))}`;
    });
  } catch (err) {
    showCard(errorCard(err));
  }
}

// ---- hierarchy and search ------------------------------------------------------------------

function nodeHTML(p) {
  const leaf = p.level === 'micro' || (p.layer && p.layer !== 'comprehensive');
  const tag = p.layer && p.layer !== 'comprehensive' ? ` <span class="tag">${esc(layerName(p.layer))}</span>` : '';
  return `<li data-id="${esc(p.id)}" data-code="${esc(p.code)}">${leaf ? '<span class="tw"></span>' : '<button class="tw" aria-label="expand">▸</button>'}<a href="#" class="pick">${esc(p.name)}</a> <small>${esc(levelName(p.level))} ${esc(p.code)}</small>${tag}</li>`;
}

async function expand(li) {
  const btn = li.querySelector(':scope > .tw');
  let ul = li.querySelector(':scope > ul');
  if (ul) { ul.hidden = !ul.hidden; btn.textContent = ul.hidden ? '▸' : '▾'; return; }
  ul = document.createElement('ul');
  ul.innerHTML = `<li class="muted">${t('loading')}</li>`;
  li.appendChild(ul);
  btn.textContent = '▾';
  ul.innerHTML = '';
  await loadPage(ul, `/v1/grids?parent=${encodeURIComponent(li.dataset.id)}&geometry=false`, 0);
}

// loadPage appends to ul the page of grids at offset of the list at path (a /v1/grids query), and
// a "more" button for the next page while there is one: a tree of any number of grids.
async function loadPage(ul, path, offset) {
  const more = ul.querySelector(':scope > li.more');
  if (more) more.remove();
  const busy = document.createElement('li');
  busy.className = 'muted';
  busy.textContent = t('loading');
  ul.appendChild(busy);
  try {
    const fc = await api(`${path}&limit=${TREE_PAGE}&offset=${offset}`);
    busy.remove();
    ul.insertAdjacentHTML('beforeend', fc.features.map((f) => nodeHTML(f.properties)).join(''));
    const shown = offset + fc.features.length;
    if (shown < fc.total) {
      const li = document.createElement('li');
      li.className = 'more';
      li.innerHTML = `<button type="button">${esc(t('more'))} (${shown} / ${fc.total})</button>`;
      li.querySelector('button').addEventListener('click', () => loadPage(ul, path, shown));
      ul.appendChild(li);
    } else if (shown === 0) {
      ul.innerHTML = `<li class="muted">${t('none')}</li>`;
    }
  } catch (err) {
    busy.className = 'err';
    busy.textContent = err.message;
  }
}

function wireTree(el) {
  el.addEventListener('click', (e) => {
    const li = e.target.closest('li[data-code]');
    if (!li) return;
    if (e.target.classList.contains('tw')) { expand(li); return; }
    if (e.target.classList.contains('pick')) { e.preventDefault(); select(li.dataset.code); }
  });
}

let searchSeq = 0;
async function search(q) {
  const seq = ++searchSeq;
  const out = $('#results');
  q = q.trim();
  if (!q) { out.innerHTML = ''; return; }
  const reqs = [api(`/v1/grids?name=${encodeURIComponent(q)}&geometry=false&limit=20`)];
  if (/^[0-9A-Za-z]+$/.test(q)) reqs.push(api(`/v1/grids?code=${encodeURIComponent(q)}&geometry=false&limit=20`));
  try {
    const seen = new Set();
    const items = [];
    for (const fc of await Promise.all(reqs)) {
      for (const f of fc.features) if (!seen.has(f.properties.code)) { seen.add(f.properties.code); items.push(f.properties); }
    }
    if (seq !== searchSeq) return;
    out.innerHTML = items.map(nodeHTML).join('') || `<li class="muted">${t('noResults')}</li>`;
  } catch (err) {
    if (seq === searchSeq) out.innerHTML = `<li class="err">${esc(err.message)}</li>`;
  }
}

// ---- static text ---------------------------------------------------------------------------

function renderText() {
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  document.title = `${t('title')} · gridline`;
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  $('#lang').textContent = t('switchLang');
  $('#here').title = t('hereHint');
  $('#here').classList.toggle('on', state.here);
  $('#here-state').textContent = state.here ? t('hereOn') : t('hereHint');
}

function renderAll() {
  renderText();
  renderAccount();
  renderEdit();
  if (!map?.isStyleLoaded()) return;
  renderLayers();
  renderLegend();
  if (state.card && !$('#card').hidden) showCard(state.card);
  const q = $('#search').value;
  if (q) search(q);
  // Tree labels hold level names: rebuild the root.
  loadTreeRoot();
  state.audit?.rerender();
}

// The tree's root is the districts, a page at a time; the first one is opened when it is the
// only one.
async function loadTreeRoot() {
  const tree = $('#tree');
  tree.innerHTML = '';
  await loadPage(tree, '/v1/grids?level=district&geometry=false', 0);
  const first = tree.querySelector('li[data-code]');
  if (first && tree.querySelectorAll(':scope > li[data-code]').length === 1) expand(first);
}

// dataExtent is the bounding box of every grid, in the map's datum, from the OGC collections'
// extents (one request, however many grids), or null when there are none.
async function dataExtent() {
  let b = null;
  try {
    const cs = await api('/ogc/collections');
    for (const c of cs.collections || []) {
      const e = c.extent?.spatial?.bbox?.[0];
      if (!e || e.length !== 4 || !e.every(Number.isFinite)) continue;
      b = b ? [Math.min(b[0], e[0]), Math.min(b[1], e[1]), Math.max(b[2], e[2]), Math.max(b[3], e[3])] : e.slice();
    }
  } catch { return null; }
  if (b && state.crs === 'gcj02') {
    const [x0, y0] = wgs84ToGcj02(b[0], b[1]);
    const [x1, y1] = wgs84ToGcj02(b[2], b[3]);
    b = [x0, y0, x1, y1];
  }
  return b;
}

// ---- start ---------------------------------------------------------------------------------

async function main() {
  const hash = readHash();
  setLang(hash.lang || (navigator.language?.startsWith('zh') ? 'zh' : 'zh'));
  const q = new URLSearchParams(location.search);
  let config = {};
  try { config = await api('/config.json'); } catch { /* none */ }
  // ?basemap=URL&basemap_crs=gcj02 override the server's configuration.
  if (q.get('basemap') !== null) config.basemap_url = q.get('basemap');
  if (q.get('basemap_crs') !== null) config.basemap_crs = q.get('basemap_crs');
  state.crs = (q.get('crs') || config.basemap_crs || 'wgs84').toLowerCase() === 'gcj02' ? 'gcj02' : 'wgs84';
  renderText();
  // Who is signed in decides what the card shows (and, for anonymous callers, how names and
  // phone numbers are shown): re-render it when that changes.
  await initAccount(() => { if (state.selected && !$('#card').hidden) select(state.selected.code, { fly: false }); editAccountChanged(); });

  // The map opens on the data's extent, whatever was loaded and however much.
  const [style, bounds] = await Promise.all([buildStyle(config), dataExtent()]);
  maplibregl.setWorkerUrl(new URL('maplibre-gl-worker.mjs', import.meta.url).href);
  const opts = {
    container: 'map', style, attributionControl: { compact: true },
    localIdeographFontFamily: '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif',
    preserveDrawingBuffer: true, // lets tests and users take screenshots of the canvas
  };
  if (hash.view) Object.assign(opts, hash.view);
  else if (bounds) Object.assign(opts, { bounds: [[bounds[0], bounds[1]], [bounds[2], bounds[3]]], fitBoundsOptions: { padding: 40 } });
  else Object.assign(opts, { center: [113.65, 34.75], zoom: 11 });
  map = new maplibregl.Map(opts);
  window.gridlineMap = map;
  window.gridline = { select, resolveAt, state, toWGS84 };
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric', maxWidth: 120 }), 'bottom-right');

  map.on('load', () => {
    renderLayers();
    renderLegend();
    loadTreeRoot();
  // The district under the view's centre, where the districts layer is drawn (the audit's scope
  // when no grid is selected; every district otherwise).
  const districtsInView = () => {
    if (!map.getLayer('districts-fill')) return [];
    const f = map.queryRenderedFeatures(map.project(map.getCenter()), { layers: ['districts-fill'] })[0];
    return f ? [{ code: f.properties.code, bbox: [-180, -90, 180, 90] }] : [];
  };
  state.audit = initAudit(map, { state, showCard, districts: districtsInView });
    if (hash.sel) select(hash.sel, { fly: !hash.view });
    initEdit(map, { state }).finally(() => { document.body.dataset.ready = '1'; });
  });
  map.on('moveend', writeHash);
  map.on('mousemove', (e) => {
    const [wl, wa] = toWGS84(e.lngLat.lng, e.lngLat.lat);
    const [x, y] = state.cursorDatum === 'gcj02' ? wgs84ToGcj02(wl, wa) : [wl, wa];
    $('#coords').textContent = `${x.toFixed(6)}, ${y.toFixed(6)}`;
  });
  map.on('click', (e) => {
    if (editing()) return; // the edit mode picks grids itself
    if (state.here || e.originalEvent.altKey) { resolveAt(e.lngLat); return; }
    const ids = CLICK_ORDER.concat(state.thematic).map((n) => `${n}-fill`).filter((id) => map.getLayer(id));
    const feats = map.queryRenderedFeatures(e.point, { layers: ids });
    const order = (f) => ids.indexOf(f.layer.id);
    feats.sort((a, b) => order(a) - order(b));
    if (feats.length) select(feats[0].properties.code, { fly: false });
  });
  map.on('contextmenu', (e) => { e.preventDefault(); resolveAt(e.lngLat); });
  map.on('mousemove', (e) => {
    const ids = CLICK_ORDER.map((n) => `${n}-fill`).filter((id) => map.getLayer(id));
    map.getCanvas().style.cursor = state.here ? 'crosshair' : (map.queryRenderedFeatures(e.point, { layers: ids }).length ? 'pointer' : '');
  });

  $('#lang').addEventListener('click', () => { setLang(lang === 'zh' ? 'en' : 'zh'); renderAll(); writeHash(); });
  $('#here').addEventListener('click', () => { state.here = !state.here; renderText(); });
  $('#datum').addEventListener('change', (e) => { state.cursorDatum = e.target.value; $('#coords').textContent = ''; });
  let timer;
  $('#search').addEventListener('input', (e) => { clearTimeout(timer); timer = setTimeout(() => search(e.target.value), 200); });
  wireTree($('#tree'));
  wireTree($('#results'));
  window.addEventListener('hashchange', () => {
    const h = readHash();
    if (h.view) map.jumpTo(h.view);
    if (h.sel && h.sel !== state.selected?.code) select(h.sel, { fly: !h.view });
  });
}

main().catch((err) => {
  console.error(err);
  const el = $('#card');
  el.hidden = false;
  el.innerHTML = `<h2>${t('error')}</h2><p class="err">${esc(err.message)}</p>`;
});
