// The coverage audit panel: runs GET /v1/coverage for the visible scope (the selected grid, or
// the district in view), lists the findings grouped by rule, draws them on the map (gaps hatched,
// overlaps in a second colour, parts outside the parent in a third, slivers outlined in red, the
// other findings as points) and flies to a finding when it is clicked, naming the grids around it.
import { lang } from './i18n.js';

const words = {
  zh: {
    audit: '覆盖核查', run: '核查当前范围', running: '核查中…', scope: '范围', all: '全部', clean: '未发现问题',
    findings: '项问题', area: '面积', width: '宽度', m2: '平方米', m: '米', around: '相关网格', more: '另有',
    gap: '缝隙', overlap: '重叠', sliver: '细缝（数字化误差）', outside_parent: '超出上级边界', invalid_geometry: '几何无效',
    code_prefix: '编码不延续上级', code_format: '编码位数不符', duplicate_name: '同级重名', four_bounds: '四至缺失',
    vacant_post: '主岗空缺', no_chief: '无网格长', too_many_posts: '兼岗过多', workload: '工作量超出标准',
    error: '错误', warning: '提示', elapsed: '用时',
  },
  en: {
    audit: 'Coverage audit', run: 'Audit the visible scope', running: 'Auditing…', scope: 'Scope', all: 'everything', clean: 'No findings',
    findings: 'findings', area: 'area', width: 'width', m2: 'm²', m: 'm', around: 'grids around', more: 'and',
    gap: 'Gaps', overlap: 'Overlaps', sliver: 'Slivers (digitising)', outside_parent: 'Outside the parent', invalid_geometry: 'Invalid geometry',
    code_prefix: 'Code does not extend the parent\'s', code_format: 'Code digits', duplicate_name: 'Duplicate names', four_bounds: 'Four bounds missing',
    vacant_post: 'Vacant posts', no_chief: 'No grid chief', too_many_posts: 'Too many posts', workload: 'Workload outside the rule',
    error: 'error', warning: 'warning', elapsed: 'took',
  },
};
const w = (k) => (words[lang] || words.zh)[k] ?? k;
const RULES = ['gap', 'overlap', 'sliver', 'outside_parent', 'invalid_geometry', 'code_prefix', 'code_format', 'duplicate_name',
  'four_bounds', 'vacant_post', 'no_chief', 'too_many_posts', 'workload'];
// Colours of the drawn findings.
export const AUDIT_COLORS = { gap: '#c92a2a', overlap: '#7048e8', outside_parent: '#f08c00', sliver: '#e03131', point: '#1971c2' };
const LIST_MAX = 100; // items listed per rule; the map draws all
const EMPTY = { type: 'FeatureCollection', features: [] };

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

// hatch is a diagonal hatching pattern for gaps, drawn into pixels (no image file to fetch).
function hatch(color) {
  const n = 12;
  const data = new Uint8Array(n * n * 4);
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const on = (x + y) % n < 3;
      const o = (y * n + x) * 4;
      data.set(on ? [r, g, b, 230] : [255, 255, 255, 40], o);
    }
  }
  return { width: n, height: n, data };
}

// addLayers puts the audit's source and layers on the map, above the grids and below the selection.
function addLayers(map) {
  if (map.getSource('audit')) return;
  if (!map.hasImage('audit-hatch')) map.addImage('audit-hatch', hatch(AUDIT_COLORS.gap));
  map.addSource('audit', { type: 'geojson', data: EMPTY });
  const before = map.getLayer('hl-fill') ? 'hl-fill' : undefined;
  const poly = ['match', ['geometry-type'], ['Polygon', 'MultiPolygon'], true, false];
  map.addLayer({ id: 'audit-gap', type: 'fill', source: 'audit', filter: ['all', poly, ['==', ['get', 'rule'], 'gap']],
    paint: { 'fill-pattern': 'audit-hatch' } }, before);
  map.addLayer({ id: 'audit-overlap', type: 'fill', source: 'audit', filter: ['all', poly, ['==', ['get', 'rule'], 'overlap']],
    paint: { 'fill-color': AUDIT_COLORS.overlap, 'fill-opacity': 0.55 } }, before);
  map.addLayer({ id: 'audit-outside', type: 'fill', source: 'audit', filter: ['all', poly, ['==', ['get', 'rule'], 'outside_parent']],
    paint: { 'fill-color': AUDIT_COLORS.outside_parent, 'fill-opacity': 0.55 } }, before);
  map.addLayer({ id: 'audit-line', type: 'line', source: 'audit', filter: poly,
    paint: { 'line-color': ['match', ['get', 'rule'], 'overlap', AUDIT_COLORS.overlap, 'outside_parent', AUDIT_COLORS.outside_parent, AUDIT_COLORS.sliver],
      'line-width': ['match', ['get', 'rule'], 'sliver', 3, 1.5] } }, before);
  map.addLayer({ id: 'audit-point', type: 'circle', source: 'audit', filter: ['==', ['geometry-type'], 'Point'],
    paint: { 'circle-radius': 5, 'circle-color': ['match', ['get', 'severity'], 'error', AUDIT_COLORS.gap, AUDIT_COLORS.point],
      'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } }, before);
  map.addSource('audit-focus', { type: 'geojson', data: EMPTY });
  map.addLayer({ id: 'audit-focus', type: 'line', source: 'audit-focus', paint: { 'line-color': '#000', 'line-width': 3, 'line-dasharray': [2, 1] } });
}

// scopeOf is the scope to audit: the selected grid, else the district whose box holds the view's
// centre (every district when none does).
function scopeOf(map, app) {
  if (app.state.selected?.code) return app.state.selected.code;
  const c = map.getCenter();
  const d = (app.districts() || []).find((x) => x.bbox && c.lng >= x.bbox[0] && c.lng <= x.bbox[2] && c.lat >= x.bbox[1] && c.lat <= x.bbox[3]);
  return d?.code || '';
}

function item(f, k) {
  const p = f.properties;
  const area = p.area_m2 ? ` · ${w('area')} ${Number(p.area_m2).toFixed(1)} ${w('m2')}` : '';
  const width = p.width_m ? ` · ${w('width')} ${Number(p.width_m).toFixed(2)} ${w('m')}` : '';
  const codes = (p.codes || []).map((c) => `<code>${esc(c)}</code>`).join(' ');
  return `<li><a href="#" class="finding sev-${esc(p.severity)}" data-k="${k}">${codes || esc(p.parent_code)}</a><small>${area}${width}</small></li>`;
}

// render lists the report's findings grouped by rule.
function render(box, report) {
  const feats = report.findings.features;
  const by = {};
  feats.forEach((f, k) => { (by[f.properties.rule] ||= []).push([f, k]); });
  const s = report.summary;
  let html = `<p class="muted">${w('scope')}: <code>${esc(report.scope || w('all'))}</code> · ${report.as_of} · ${s.findings} ${w('findings')} · ${w('elapsed')} ${Math.round(s.elapsed_ms)} ms</p>`;
  if (!feats.length) html += `<p class="audit-clean">${w('clean')}</p>`;
  for (const rule of RULES) {
    const list = by[rule];
    if (!list) continue;
    const total = Object.values(s.by_rule[rule] || {}).reduce((n, c) => n + c.count, 0);
    const shown = list.slice(0, LIST_MAX).map(([f, k]) => item(f, k)).join('');
    const more = total > LIST_MAX ? `<li class="muted">${w('more')} ${total - LIST_MAX}…</li>` : '';
    html += `<details class="audit-rule" data-rule="${rule}"${rule === 'gap' || rule === 'overlap' || rule === 'outside_parent' || total <= 5 ? ' open' : ''}><summary><span class="sw rule-${rule}"></span>${w(rule)} <b>${total}</b></summary><ul>${shown}${more}</ul></details>`;
  }
  box.innerHTML = html;
}

// focus flies to finding f, outlines it and lists the grids around it in the card.
function focus(map, app, f) {
  const p = f.properties;
  const b = f.bbox;
  map.getSource('audit-focus').setData(f.geometry.type === 'Point' ? EMPTY : f);
  if (b) {
    // Grow the box so the grids around the finding are in view.
    const dx = Math.max(b[2] - b[0], 0.002), dy = Math.max(b[3] - b[1], 0.002);
    map.fitBounds([[b[0] - dx, b[1] - dy], [b[2] + dx, b[3] + dy]], { padding: 40, maxZoom: 18, duration: 600 });
  }
  app.showCard(() => {
    const around = (p.codes || []).map((c) => `<li><a href="#" data-select="${esc(c)}">${esc(c)}</a></li>`).join('');
    const rows = [['rule', w(p.rule) + (p.kind ? ` (${w(p.kind)})` : '')], ['severity', w(p.severity)], ['parent', p.parent_code],
      ['area', p.area_m2 ? `${Number(p.area_m2).toFixed(1)} ${w('m2')}` : ''], ['width', p.width_m ? `${Number(p.width_m).toFixed(2)} ${w('m')}` : ''],
      ['as_of', p.as_of]].filter(([, v]) => v);
    return `<h2 class="audit-title">${esc(w(p.rule))}</h2><p>${esc(p.message)}</p>
<table>${rows.map(([k, v]) => `<tr><th>${esc(w(k))}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<h3>${w('around')}</h3><ul class="audit-around">${around}</ul>`;
  });
}

// initAudit wires the panel. app gives what main.js owns: state, showCard, districts().
export function initAudit(map, app) {
  const box = document.querySelector('#audit');
  const btn = document.querySelector('#audit-run');
  const title = document.querySelector('#audit-title');
  let report = null;
  let seq = 0;
  const text = () => { title.textContent = w('audit'); btn.textContent = w('run'); if (report) render(box, report); };
  text();
  addLayers(map);
  // A style reload (none today) would drop the layers: put them back.
  map.on('styledata', () => { if (!map.getSource('audit')) { addLayers(map); map.getSource('audit').setData(report?.findings || EMPTY); } });
  btn.addEventListener('click', async () => {
    const my = ++seq;
    const scope = scopeOf(map, app);
    btn.disabled = true;
    box.innerHTML = `<p class="muted">${w('running')}</p>`;
    try {
      const res = await fetch(`/v1/coverage?scope=${encodeURIComponent(scope)}`, { headers: { Accept: 'application/json' } });
      const body = await res.json();
      if (!res.ok) throw new Error(body?.error?.message || `HTTP ${res.status}`);
      if (my !== seq) return;
      report = body;
      map.getSource('audit').setData(report.findings);
      render(box, report);
      box.dataset.done = String(my);
    } catch (err) {
      box.innerHTML = `<p class="err">${esc(err.message)}</p>`;
    } finally {
      btn.disabled = false;
    }
  });
  box.addEventListener('click', (e) => {
    const a = e.target.closest('a.finding');
    if (!a || !report) return;
    e.preventDefault();
    focus(map, app, report.findings.features[Number(a.dataset.k)]);
  });
  return { rerender: text };
}
