// Editing grids on the map (issue #14): a planner's drafts and a reviewer's queue, over the drafts
// API (/v1/drafts). The map never edits tile geometry (clipped and simplified): what is drawn and
// snapped to is the draft's editing neighbourhood, fetched at full precision. Shared vertices are
// dragged here (terra-draw cannot move a vertex in several features at once: the server moves it in
// every grid that has it); split lines and new grids are drawn with terra-draw, snapping to the
// fetched vertices and edges. Every operation is one request; the answer is the draft with its
// problems, which are listed and drawn where they are.
import { TerraDraw, TerraDrawLineStringMode, TerraDrawPolygonMode, TerraDrawModeUndoRedo, TerraDrawSessionUndoRedo, ValidateNotSelfIntersecting } from 'terra-draw';
import { TerraDrawMapLibreGLAdapter } from 'terra-draw-maplibre-gl-adapter';
import { lang } from './i18n.js';
import { session, can, write } from './account.js';

const words = {
  zh: {
    edit: '编辑网格', queue: '审核队列', newDraft: '新建草稿', scope: '范围（编码）', title: '标题', effective: '生效日期',
    myDrafts: '我的草稿', open: '打开', noDrafts: '无草稿', noQueue: '无待审草稿', parent: '编辑范围（上级编码）', load: '加载',
    pick: '点选', reshape: '改形', split: '拆分', merge: '合并', draw: '新绘', retire: '撤销网格', attributes: '属性',
    undo: '撤销', redo: '重做', undoPoint: '撤销上一点', beforeAfter: '前后对比', problems: '问题', noProblems: '无问题',
    changes: '变更', code: '编码', status: '状态', area: '面积（平方米）', households: '户数', population: '人口', staff: '人员', name: '名称',
    new: '新增', changed: '修改', retired: '撤销', moved: '迁移', unchanged: '未变',
    submit: '提交审核', withdraw: '撤回', publish: '发布', approve: '批准', return: '退回', comment: '审核意见', close: '关闭',
    ack: '确认', rule: '规则', coverage: '覆盖', draft: '草稿', submitted: '待审', approved: '已批准', returned: '已退回',
    published: '已发布', withdrawn: '已撤回', revision: '修订', author: '编制人', keep: '保留编码', to: '并入',
    fourBounds: '四至', east: '东至', south: '南至', west: '西至', north: '北至', recompute: '发布时重新计算四至', save: '保存',
    take: '占用相邻网格', newName: '新网格名称', showDate: '查看生效日的网格', today: '查看今日', mapDate: '地图显示日期',
    hintPick: '点击网格选择（可多选）', hintReshape: '拖动顶点移动共用边界；点击边线插入顶点',
    hintSplit: '画一条穿过所选网格的线（单击加点，再次单击最后一点结束）', hintMerge: '选择两个以上相邻网格，选定保留编码后合并',
    hintDraw: '在上级范围内画出新网格（单击加点，单击起点闭合）', hintRetire: '先选要撤销的网格，再选并入的相邻网格',
    hintAttributes: '选择一个网格后编辑属性', defaultTomorrow: '默认明天', picked: '已选', gcj: '编辑需要 WGS84 坐标系的地图', history: '修订历史',
  },
  en: {
    edit: 'Edit grids', queue: 'Review queue', newDraft: 'New draft', scope: 'Scope (code)', title: 'Title', effective: 'Effective date',
    myDrafts: 'My drafts', open: 'Open', noDrafts: 'no drafts', noQueue: 'nothing to review', parent: 'Editing area (parent code)', load: 'Load',
    pick: 'Pick', reshape: 'Reshape', split: 'Split', merge: 'Merge', draw: 'Draw', retire: 'Retire', attributes: 'Attributes',
    undo: 'Undo', redo: 'Redo', undoPoint: 'Undo point', beforeAfter: 'Before/after', problems: 'Problems', noProblems: 'no problems',
    changes: 'Changes', code: 'Code', status: 'Status', area: 'Area (m²)', households: 'Households', population: 'Population', staff: 'Staff', name: 'Name',
    new: 'new', changed: 'changed', retired: 'retired', moved: 'moved', unchanged: 'unchanged',
    submit: 'Submit for review', withdraw: 'Withdraw', publish: 'Publish', approve: 'Approve', return: 'Return', comment: 'Review comment', close: 'Close',
    ack: 'acknowledge', rule: 'rule', coverage: 'coverage', draft: 'draft', submitted: 'submitted', approved: 'approved', returned: 'returned',
    published: 'published', withdrawn: 'withdrawn', revision: 'revision', author: 'author', keep: 'Code kept', to: 'Area goes to',
    fourBounds: 'Four bounds', east: 'East', south: 'South', west: 'West', north: 'North', recompute: 'Recompute the four bounds on publish', save: 'Save',
    take: 'Take from the neighbours', newName: 'New grid name', showDate: 'Show the grids of the effective date', today: 'Show today', mapDate: 'Map date',
    hintPick: 'Click grids to pick them (several for a merge)', hintReshape: 'Drag a vertex to move the shared boundary; click an edge to add a vertex',
    hintSplit: 'Draw a line across the picked grid (click to add points, click the last one again to finish)', hintMerge: 'Pick two or more adjacent grids, choose the code kept, merge',
    hintDraw: 'Draw the new grid inside the parent (click to add points, click the first one to close)', hintRetire: 'Pick the grid to retire, then the neighbour that takes its area',
    hintAttributes: 'Pick one grid to edit its attributes', defaultTomorrow: 'tomorrow if empty', picked: 'picked', gcj: 'Editing needs the map in WGS84', history: 'History',
  },
};
const w = (k) => (words[lang] || words.zh)[k] ?? words.zh[k] ?? k;
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const EMPTY = { type: 'FeatureCollection', features: [] };
// SNAP_PX is the snapping tolerance in screen pixels; PRECISION the decimals of a drawn position
// (terra-draw's coordinatePrecision; the server rounds again).
const SNAP_PX = 10;
const PRECISION = 7;
const EDITABLE = new Set(['draft', 'returned']);
const STATUS_COLORS = { new: '#2b8a3e', changed: '#1971c2', moved: '#9c36b5', retired: '#868e96', unchanged: '#74c0fc' };

const ed = {
  map: null, deps: null, draft: null, parent: '', nb: EMPTY, inner: [], tool: 'pick', picked: [], beforeAfter: false,
  list: [], queue: [], message: '', busy: false, td: null, date: '',
};

export const editing = () => !!ed.draft;

async function get(path) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) throw new Error(body?.error?.message || `HTTP ${res.status}`);
  return body;
}

const round = (p) => p.map((v) => Math.round(v * 1e7) / 1e7);

// ---- geometry helpers ------------------------------------------------------------------------

function rings(geom) {
  if (!geom) return [];
  if (geom.type === 'Polygon') return geom.coordinates;
  if (geom.type === 'MultiPolygon') return geom.coordinates.flat();
  if (geom.type === 'LineString') return [geom.coordinates];
  return [];
}

// snapTargets are the features snapped to: the neighbourhood (parent, children, neighbours) and
// the children's own children (micro grids), whose vertices a shared edge must keep.
const snapFeatures = () => ed.nb.features.concat(ed.inner);

// snap finds the vertex (first) or the point on an edge nearest to lngLat within SNAP_PX pixels,
// among the fetched full-precision grids; null when none is that near. skip is a position to
// leave out (the vertex being dragged).
function snap(lngLat, skip) {
  const map = ed.map;
  const p = map.project(lngLat);
  let best = null;
  let bestD = SNAP_PX;
  for (const f of snapFeatures()) {
    for (const r of rings(f.geometry)) {
      for (const c of r) {
        if (skip && c[0] === skip[0] && c[1] === skip[1]) continue;
        const q = map.project(c);
        const d = Math.hypot(q.x - p.x, q.y - p.y);
        if (d < bestD) { bestD = d; best = c; }
      }
    }
  }
  if (best) return { at: best.slice(), vertex: true };
  let edge = null;
  bestD = SNAP_PX;
  for (const f of snapFeatures()) {
    for (const r of rings(f.geometry)) {
      for (let i = 0; i + 1 < r.length; i++) {
        const a = r[i];
        const b = r[i + 1];
        if (skip && ((a[0] === skip[0] && a[1] === skip[1]) || (b[0] === skip[0] && b[1] === skip[1]))) continue;
        const pa = map.project(a);
        const pb = map.project(b);
        const dx = pb.x - pa.x;
        const dy = pb.y - pa.y;
        const len2 = dx * dx + dy * dy;
        if (!len2) continue;
        const t = Math.max(0, Math.min(1, ((p.x - pa.x) * dx + (p.y - pa.y) * dy) / len2));
        const d = Math.hypot(pa.x + t * dx - p.x, pa.y + t * dy - p.y);
        if (d < bestD) {
          bestD = d;
          // The point on the segment in degrees (exact on axis-parallel edges; within 1e-9° of any
          // other, as insert_vertex asks).
          edge = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
        }
      }
    }
  }
  return edge ? { at: edge, vertex: false } : null;
}

// vertexAt is the vertex of a child grid within SNAP_PX of the screen point, or null.
function vertexAt(point) {
  let best = null;
  let bestD = SNAP_PX;
  for (const f of ed.nb.features) {
    if (f.properties.role !== 'child') continue;
    for (const r of rings(f.geometry)) {
      for (const c of r) {
        const q = ed.map.project(c);
        const d = Math.hypot(q.x - point.x, q.y - point.y);
        if (d < bestD) { bestD = d; best = c; }
      }
    }
  }
  return best && best.slice();
}

// childAt is the child grid (feature) under lngLat, by the full-precision geometry.
function childAt(lngLat) {
  const [x, y] = Array.isArray(lngLat) ? lngLat : [lngLat.lng, lngLat.lat];
  const inside = (ring) => {
    let ins = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) ins = !ins;
    }
    return ins;
  };
  for (const f of ed.nb.features) {
    if (f.properties.role !== 'child') continue;
    const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
    for (const poly of polys) if (inside(poly[0]) && !poly.slice(1).some(inside)) return f;
  }
  return null;
}

// ---- map layers ------------------------------------------------------------------------------

function addLayers() {
  const map = ed.map;
  if (map.getSource('edit-nb')) return;
  for (const s of ['edit-nb', 'edit-vertices', 'edit-before', 'edit-after', 'edit-problems', 'edit-drag']) map.addSource(s, { type: 'geojson', data: EMPTY });
  const role = (r) => ['==', ['get', 'role'], r];
  const statusColor = ['match', ['get', 'status'], ...Object.entries(STATUS_COLORS).flat(), STATUS_COLORS.unchanged];
  map.addLayer({ id: 'edit-fill', type: 'fill', source: 'edit-nb', filter: role('child'),
    paint: { 'fill-color': ['case', ['boolean', ['get', 'picked'], false], '#e8590c', statusColor], 'fill-opacity': ['case', ['boolean', ['get', 'picked'], false], 0.35, 0.18] } });
  map.addLayer({ id: 'edit-inner-line', type: 'line', source: 'edit-nb', filter: role('inner'), paint: { 'line-color': '#74c0fc', 'line-width': 1, 'line-dasharray': [2, 2] } });
  map.addLayer({ id: 'edit-neighbour-line', type: 'line', source: 'edit-nb', filter: role('neighbour'), paint: { 'line-color': '#868e96', 'line-width': 1.5, 'line-dasharray': [3, 2] } });
  map.addLayer({ id: 'edit-parent-line', type: 'line', source: 'edit-nb', filter: role('parent'), paint: { 'line-color': '#212529', 'line-width': 3 } });
  map.addLayer({ id: 'edit-line', type: 'line', source: 'edit-nb', filter: role('child'), paint: { 'line-color': statusColor, 'line-width': 2 } });
  map.addLayer({ id: 'edit-label', type: 'symbol', source: 'edit-nb', filter: role('child'),
    layout: { 'text-field': ['concat', ['get', 'name'], '\n', ['get', 'code']], 'text-font': ['sans-serif'], 'text-size': 11 },
    paint: { 'text-color': '#1b2b4b', 'text-halo-color': '#fff', 'text-halo-width': 1.5 } });
  // Before/after: the old boundaries dashed orange, the new ones solid green.
  map.addLayer({ id: 'edit-before-line', type: 'line', source: 'edit-before', paint: { 'line-color': '#f76707', 'line-width': 3, 'line-dasharray': [2, 1.5] } });
  map.addLayer({ id: 'edit-after-line', type: 'line', source: 'edit-after', paint: { 'line-color': '#2b8a3e', 'line-width': 2.5 } });
  const poly = ['match', ['geometry-type'], ['Polygon', 'MultiPolygon'], true, false];
  map.addLayer({ id: 'edit-problem-fill', type: 'fill', source: 'edit-problems', filter: poly, paint: { 'fill-color': '#e03131', 'fill-opacity': 0.45 } });
  map.addLayer({ id: 'edit-problem-line', type: 'line', source: 'edit-problems', filter: ['!', poly], paint: { 'line-color': '#e03131', 'line-width': 3 } });
  map.addLayer({ id: 'edit-problem-point', type: 'circle', source: 'edit-problems', filter: ['==', ['geometry-type'], 'Point'],
    paint: { 'circle-radius': 7, 'circle-color': ['match', ['get', 'severity'], 'error', '#e03131', '#f59f00'], 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
  map.addLayer({ id: 'edit-vertex', type: 'circle', source: 'edit-vertices', paint: { 'circle-radius': 4, 'circle-color': '#fff', 'circle-stroke-color': '#1971c2', 'circle-stroke-width': 2 } });
  map.addLayer({ id: 'edit-drag', type: 'circle', source: 'edit-drag', paint: { 'circle-radius': 6, 'circle-color': '#e8590c', 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
}

function removeLayers() {
  const map = ed.map;
  for (const l of ['edit-fill', 'edit-inner-line', 'edit-neighbour-line', 'edit-parent-line', 'edit-line', 'edit-label', 'edit-before-line', 'edit-after-line',
    'edit-problem-fill', 'edit-problem-line', 'edit-problem-point', 'edit-vertex', 'edit-drag']) if (map.getLayer(l)) map.removeLayer(l);
  for (const s of ['edit-nb', 'edit-vertices', 'edit-before', 'edit-after', 'edit-problems', 'edit-drag']) if (map.getSource(s)) map.removeSource(s);
}

function drawNeighbourhood() {
  const map = ed.map;
  const picked = new Set(ed.picked);
  const feats = ed.nb.features.map((f) => ({ ...f, properties: { ...f.properties, picked: picked.has(f.properties.id) } }))
    .concat(ed.inner.map((f) => ({ ...f, properties: { ...f.properties, role: 'inner' } })));
  map.getSource('edit-nb')?.setData({ type: 'FeatureCollection', features: feats });
  const seen = new Set();
  const pts = [];
  if (ed.tool === 'reshape') {
    for (const f of ed.nb.features) {
      if (f.properties.role !== 'child') continue;
      for (const r of rings(f.geometry)) for (const c of r) {
        const k = c.join(',');
        if (!seen.has(k)) { seen.add(k); pts.push({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: c } }); }
      }
    }
  }
  map.getSource('edit-vertices')?.setData({ type: 'FeatureCollection', features: pts });
  const probs = (ed.draft?.problems || []).filter((p) => p.geometry).map((p) => ({ type: 'Feature', geometry: p.geometry, properties: { rule: p.rule, severity: p.severity, key: p.key } }));
  map.getSource('edit-problems')?.setData({ type: 'FeatureCollection', features: probs });
}

async function loadNeighbourhood() {
  if (!ed.draft) return;
  const d = ed.draft;
  const parent = ed.parent || d.scope?.code;
  ed.nb = await get(`/v1/drafts/${d.id}/neighbourhood?parent=${encodeURIComponent(parent)}`);
  // The micro grids inside the children, for snapping (a shared edge keeps their vertices).
  const kids = ed.nb.features.filter((f) => f.properties.role === 'child' && f.properties.layer === 'comprehensive' && f.properties.level !== 'micro');
  const inner = await Promise.all(kids.map((k) => get(`/v1/drafts/${d.id}/neighbourhood?parent=${k.properties.id}`)
    .then((fc) => fc.features.filter((f) => f.properties.role === 'child')).catch(() => [])));
  ed.inner = inner.flat();
  drawNeighbourhood();
  if (ed.beforeAfter) await loadBeforeAfter();
}

async function loadBeforeAfter() {
  const d = ed.draft;
  if (!d) return;
  if (!ed.beforeAfter) {
    ed.beforeAfterCounts = '';
    ed.map.getSource('edit-before')?.setData(EMPTY);
    ed.map.getSource('edit-after')?.setData(EMPTY);
    return;
  }
  const [before, after] = await Promise.all([get(`/v1/drafts/${d.id}/grids?before=1`), get(`/v1/drafts/${d.id}/grids`)]);
  ed.map.getSource('edit-before')?.setData(before);
  ed.map.getSource('edit-after')?.setData(after);
  ed.beforeAfterCounts = `${before.features.length}/${after.features.length}`;
  document.querySelector('#edit-draft')?.setAttribute('data-before-after', ed.beforeAfterCounts);
}

function fitNeighbourhood() {
  const p = ed.nb.features.find((f) => f.properties.role === 'parent');
  if (!p) return;
  let b = [Infinity, Infinity, -Infinity, -Infinity];
  for (const r of rings(p.geometry)) for (const [x, y] of r) b = [Math.min(b[0], x), Math.min(b[1], y), Math.max(b[2], x), Math.max(b[3], y)];
  // Clear of the layer and legend boxes on the right.
  ed.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: { top: 60, bottom: 70, left: 60, right: 270 }, duration: 0 });
}

// ---- terra-draw: split lines and new grids ----------------------------------------------------

function stopDrawing() {
  if (ed.td) {
    try { ed.td.stop(); } catch { /* already stopped */ }
    ed.td = null;
  }
}

// startDrawing lets the planner draw a LineString (split) or a Polygon (draw) with terra-draw,
// snapping to the fetched grids; done gets the finished geometry.
function startDrawing(kind, done) {
  stopDrawing();
  const toCustom = (e) => snap([e.lng, e.lat])?.at;
  const snapping = { toCustom };
  const modes = kind === 'line'
    ? [new TerraDrawLineStringMode({ snapping, validation: (f, ctx) => ValidateNotSelfIntersecting(f, ctx) })]
    : [new TerraDrawPolygonMode({ snapping, validation: (f, ctx) => ValidateNotSelfIntersecting(f, ctx) })];
  const td = new TerraDraw({
    adapter: new TerraDrawMapLibreGLAdapter({ map: ed.map, coordinatePrecision: PRECISION }),
    modes,
    undoRedo: { modeLevel: new TerraDrawModeUndoRedo(), sessionLevel: new TerraDrawSessionUndoRedo() },
  });
  td.start();
  td.setMode(kind === 'line' ? 'linestring' : 'polygon');
  td.on('finish', (id, ctx) => {
    if (ctx?.action && ctx.action !== 'draw') return;
    const f = td.getSnapshotFeature(id);
    if (!f) return;
    done(f.geometry);
  });
  ed.td = td;
  window.gridlineDraw = td;
}

// ---- operations ------------------------------------------------------------------------------

async function op(body) {
  return act(`/v1/drafts/${ed.draft.id}/operations`, body);
}

// act posts to the draft and shows the draft it answers (or the error); nothing changes on error.
async function act(path, body, { reload = true } = {}) {
  ed.busy = true;
  ed.message = '';
  setBusy();
  try {
    const d = await write('POST', path, body);
    ed.draft = d;
    if (reload) await loadNeighbourhood();
    return d;
  } catch (err) {
    ed.message = err.message;
    return null;
  } finally {
    ed.busy = false;
    render();
  }
}

function setBusy() {
  const el = document.querySelector('#edit-draft');
  if (el) el.dataset.busy = ed.busy ? '1' : '';
}

function setTool(tool) {
  stopDrawing();
  ed.tool = tool;
  if (tool === 'split') {
    startDrawing('line', async (geom) => {
      const grid = ed.picked.length === 1 ? ed.picked[0] : childAt(midpoint(geom.coordinates))?.properties.id;
      stopDrawing();
      if (grid === undefined || grid === null) { ed.message = w('hintSplit'); render(); return; }
      await op({ op: 'split', grid, lines: [{ type: 'LineString', coordinates: geom.coordinates.map(round) }] });
      ed.picked = [];
      setTool('pick');
    });
  } else if (tool === 'draw') {
    startDrawing('polygon', async (geom) => {
      stopDrawing();
      const parent = ed.nb.features.find((f) => f.properties.role === 'parent');
      const name = document.querySelector('#edit-new-name')?.value || '';
      const take = !!document.querySelector('#edit-take')?.checked;
      await op({ op: 'draw', parent: parent?.properties.id, name, geometry: { type: 'Polygon', coordinates: geom.coordinates.map((r) => r.map(round)) }, take_from_neighbours: take });
      setTool('pick');
    });
  }
  drawNeighbourhood();
  render();
}

function midpoint(cs) {
  // The middle of the line by length.
  let total = 0;
  for (let i = 1; i < cs.length; i++) total += Math.hypot(cs[i][0] - cs[i - 1][0], cs[i][1] - cs[i - 1][1]);
  let acc = 0;
  for (let i = 1; i < cs.length; i++) {
    const l = Math.hypot(cs[i][0] - cs[i - 1][0], cs[i][1] - cs[i - 1][1]);
    if (acc + l >= total / 2 && l > 0) {
      const t = (total / 2 - acc) / l;
      return [cs[i - 1][0] + t * (cs[i][0] - cs[i - 1][0]), cs[i - 1][1] + t * (cs[i][1] - cs[i - 1][1])];
    }
    acc += l;
  }
  return cs[0];
}

// ---- map events ------------------------------------------------------------------------------

function wireMap() {
  const map = ed.map;
  let drag = null;
  map.on('mousedown', (e) => {
    if (!ed.draft || ed.tool !== 'reshape' || ed.busy || !EDITABLE.has(ed.draft.state)) return;
    const v = vertexAt(e.point);
    if (!v) return;
    e.preventDefault(); // no drag-pan while a vertex moves
    drag = { from: v, to: v, start: e.point };
    map.getSource('edit-drag')?.setData({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: v } });
  });
  map.on('mousemove', (e) => {
    if (!drag) return;
    const s = snap(e.lngLat, drag.from);
    drag.to = s ? s.at : round([e.lngLat.lng, e.lngLat.lat]);
    drag.moved = Math.hypot(e.point.x - drag.start.x, e.point.y - drag.start.y) > 3;
    map.getSource('edit-drag')?.setData({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: drag.to } });
  });
  map.on('mouseup', async () => {
    if (!drag) return;
    const d = drag;
    drag = null;
    map.getSource('edit-drag')?.setData(EMPTY);
    // A press on a vertex without moving is followed by a click that must insert nothing; a drag
    // is not (MapLibre fires no click past its click tolerance).
    if (!d.moved) { ed.skipClick = true; return; }
    await op({ op: 'move_vertex', from: d.from, to: d.to });
  });
  map.on('click', async (e) => {
    if (!ed.draft) return;
    if (ed.skipClick) { ed.skipClick = false; return; }
    if (ed.tool === 'reshape') {
      if (!EDITABLE.has(ed.draft.state) || ed.busy) return;
      const s = snap(e.lngLat);
      if (s && !vertexAt(e.point)) await op({ op: 'insert_vertex', at: s.at });
      return;
    }
    if (ed.tool === 'split' || ed.tool === 'draw') return;
    const f = childAt(e.lngLat);
    if (!f) return;
    const id = f.properties.id;
    ed.picked = ed.picked.includes(id) ? ed.picked.filter((x) => x !== id) : ed.picked.concat(id);
    drawNeighbourhood();
    render();
  });
}

// ---- the panel -------------------------------------------------------------------------------

const fmt = (v) => (v === undefined || v === null ? '' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : String(v));
const staffOf = (s) => (s?.staff || []).map((p) => p.name).join('、');

function changesTable(d) {
  const rows = (d.changes || []).map((c) => {
    const b = c.before || {};
    const a = c.after || {};
    const pair = (k, f = fmt) => (c.before && c.after && f(b[k]) !== f(a[k]) ? `${esc(f(b[k]))} → ${esc(f(a[k]))}` : esc(f(c.after ? a[k] : b[k])));
    return `<tr data-code="${esc(c.code)}" data-id="${esc(c.id)}" data-status="${esc(c.status)}" data-area-before="${esc(b.area_m2 ?? '')}" data-area-after="${esc(a.area_m2 ?? '')}">
<td><code>${c.before && c.after && b.code !== a.code ? `${esc(b.code)} → ${esc(a.code)}` : esc(c.code)}</code><br><small>${esc(a.name || b.name)}</small></td>
<td>${esc(w(c.status))}</td><td>${pair('area_m2', (v) => (v === undefined || v === null ? '' : Math.round(v).toString()))}</td><td>${pair('households')}</td><td>${c.before && c.after && staffOf(b) !== staffOf(a) ? `${esc(staffOf(b))} → ${esc(staffOf(a))}` : esc(staffOf(c.after ? a : b))}</td></tr>`;
  });
  if (!rows.length) return '<p class="muted">—</p>';
  return `<table class="edit-changes"><tr><th>${w('code')}</th><th>${w('status')}</th><th>${w('area')}</th><th>${w('households')}</th><th>${w('staff')}</th></tr>${rows.join('')}</table>`;
}

function problemsList(d) {
  const ps = d.problems || [];
  if (!ps.length) return `<p class="muted" id="edit-no-problems">${w('noProblems')}</p>`;
  const acked = new Set(d.acknowledged || []);
  return `<ul id="edit-problems">${ps.map((p) => `<li data-key="${esc(p.key)}" data-rule="${esc(p.rule)}" data-kind="${esc(p.kind)}" class="sev-${esc(p.severity)}">
${p.kind === 'coverage' ? `<label><input type="checkbox" class="edit-ack" value="${esc(p.key)}" ${acked.has(p.key) ? 'checked' : ''}> ${w('ack')}</label> ` : `<b>${w('rule')}</b> `}
<a href="#" class="edit-problem">${esc(p.rule)}</a>: ${esc(p.message)}</li>`).join('')}</ul>`;
}

function toolPanel(d) {
  const picked = ed.nb.features.filter((f) => f.properties.role === 'child' && ed.picked.includes(f.properties.id));
  const names = picked.map((f) => `${esc(f.properties.name)} <code>${esc(f.properties.code)}</code>`).join('、');
  let html = `<p class="muted" id="edit-hint">${w('hint' + ed.tool[0].toUpperCase() + ed.tool.slice(1))}</p>`;
  if (picked.length) html += `<p id="edit-picked">${w('picked')}: ${names}</p>`;
  if (ed.tool === 'merge' && picked.length >= 2) {
    html += `<label>${w('keep')} <select id="edit-keep">${picked.map((f) => `<option value="${esc(f.properties.id)}">${esc(f.properties.code)}</option>`).join('')}</select></label>
<button type="button" id="edit-merge">${w('merge')}</button>`;
  }
  if (ed.tool === 'retire' && picked.length === 2) {
    html += `<button type="button" id="edit-retire">${w('retire')} ${esc(picked[0].properties.code)} → ${esc(picked[1].properties.code)}</button>`;
  }
  if (ed.tool === 'attributes' && picked.length === 1) {
    const p = picked[0].properties;
    const fb = p.four_bounds || {};
    html += `<form id="edit-attrs">
<label>${w('name')} <input name="name" value="${esc(p.name)}"></label>
<label>${w('households')} <input name="households" type="number" min="0" value="${esc(p.households ?? '')}"></label>
<label>${w('population')} <input name="population" type="number" min="0" value="${esc(p.population ?? '')}"></label>
<fieldset><legend>${w('fourBounds')}</legend>${['east', 'south', 'west', 'north'].map((k) => `<label>${w(k)} <input name="${k}" value="${esc(fb[k] || '')}"></label>`).join('')}
<label><input type="checkbox" name="recompute"> ${w('recompute')}</label></fieldset>
<button type="submit">${w('save')}</button></form>`;
  }
  if (ed.tool === 'draw') {
    html += `<label>${w('newName')} <input id="edit-new-name"></label> <label><input type="checkbox" id="edit-take"> ${w('take')}</label>`;
  }
  if (ed.tool === 'split' || ed.tool === 'draw') html += ` <button type="button" id="edit-undo-point">${w('undoPoint')}</button>`;
  return html;
}

function draftPanel(d) {
  const mine = d.author === session.username;
  const editable = EDITABLE.has(d.state) && can('grids.write');
  const reviewer = d.state === 'submitted' && can('drafts.review') && !mine;
  const tools = ['pick', 'reshape', 'split', 'merge', 'draw', 'retire', 'attributes'];
  let html = `<div id="edit-draft" data-id="${esc(d.id)}" data-state="${esc(d.state)}" data-revision="${esc(d.revision)}" data-busy="${ed.busy ? '1' : ''}" data-before-after="${ed.beforeAfter ? esc(ed.beforeAfterCounts || '') : ''}">
<h3>${esc(d.title)} <small>#${esc(d.id)}</small></h3>
<p><span class="tag" id="edit-state">${esc(w(d.state))}</span> ${w('effective')} <b>${esc(d.effective_date)}</b> · ${w('scope')} <code>${esc(d.scope?.code)}</code> · ${w('author')} ${esc(d.author)} · ${w('revision')} ${esc(d.revision)}</p>
<form id="edit-parent-form"><label>${w('parent')} <input id="edit-parent" value="${esc(ed.parent || d.scope?.code || '')}" size="16"></label> <button type="submit">${w('load')}</button></form>`;
  if (editable) {
    html += `<div class="edit-tools">${tools.map((t) => `<button type="button" data-tool="${t}" class="${ed.tool === t ? 'on' : ''}">${w(t)}</button>`).join('')}</div>
${toolPanel(d)}
<div class="edit-tools"><button type="button" id="edit-undo" ${d.can_undo ? '' : 'disabled'}>${w('undo')}</button><button type="button" id="edit-redo" ${d.can_redo ? '' : 'disabled'}>${w('redo')}</button></div>`;
  }
  html += `<label><input type="checkbox" id="edit-before-after" ${ed.beforeAfter ? 'checked' : ''}> ${w('beforeAfter')}</label>
<h3>${w('problems')}</h3>${problemsList(d)}
<h3>${w('changes')}</h3>${changesTable(d)}`;
  if ((d.comments || []).length) html += `<ul class="edit-comments">${d.comments.map((c) => `<li><b>${esc(w(c.action))}</b> ${esc(c.username)}: ${esc(c.comment)}</li>`).join('')}</ul>`;
  html += '<div class="edit-tools">';
  if (editable && mine) html += `<button type="button" id="edit-submit">${w('submit')}</button>`;
  if (reviewer) html += `<textarea id="edit-comment" placeholder="${w('comment')}"></textarea><button type="button" id="edit-approve">${w('approve')}</button><button type="button" id="edit-return">${w('return')}</button>`;
  if (d.state === 'approved' && can('grids.write')) html += `<button type="button" id="edit-publish">${w('publish')}</button>`;
  if (!['published', 'withdrawn'].includes(d.state) && mine) html += `<button type="button" id="edit-withdraw">${w('withdraw')}</button>`;
  if (d.state === 'published') html += `<button type="button" id="edit-show-date">${w('showDate')}</button>`;
  html += `<button type="button" id="edit-close">${w('close')}</button></div>`;
  if (ed.message) html += `<p class="err" id="edit-error">${esc(ed.message)}</p>`;
  return html + '</div>';
}

function listPanel() {
  let html = '';
  if (can('grids.write')) {
    // The effective date is left empty: the server's default is tomorrow in the district's time zone.
    html += `<form id="edit-new"><input name="scope" placeholder="${w('scope')}" value="${esc(ed.deps.state.selected?.code || '')}" required>
<input name="title" placeholder="${w('title')}" required><label>${w('effective')} <input name="effective_date" type="date"> <small class="muted">${w('defaultTomorrow')}</small></label>
<button type="submit">${w('newDraft')}</button></form>
<h3>${w('myDrafts')}</h3><ul id="edit-drafts">${ed.list.map((d) => `<li><a href="#" data-open="${esc(d.id)}">${esc(d.title)}</a> <small>${esc(w(d.state))} · ${esc(d.effective_date)}</small></li>`).join('') || `<li class="muted">${w('noDrafts')}</li>`}</ul>`;
  }
  if (can('drafts.review')) {
    html += `<h3>${w('queue')}</h3><ul id="review-queue">${ed.queue.map((d) => `<li><a href="#" data-open="${esc(d.id)}">${esc(d.title)}</a> <small>${esc(d.author)} · ${esc(d.effective_date)}</small></li>`).join('') || `<li class="muted">${w('noQueue')}</li>`}</ul>`;
  }
  if (ed.message) html += `<p class="err" id="edit-error">${esc(ed.message)}</p>`;
  return html;
}

export function render() {
  const el = document.querySelector('#edit');
  if (!el) return;
  if (!can('grids.write') && !can('drafts.review')) { el.innerHTML = ''; el.hidden = true; return; }
  el.hidden = false;
  let html = `<h2 id="edit-title">${w(can('grids.write') ? 'edit' : 'queue')}</h2>`;
  if (ed.deps?.state.crs === 'gcj02') html += `<p class="muted">${w('gcj')}</p>`;
  else html += ed.draft ? draftPanel(ed.draft) : listPanel();
  if (ed.date) html += `<p id="edit-map-date">${w('mapDate')}: <b>${esc(ed.date)}</b> <button type="button" id="edit-today">${w('today')}</button></p>`;
  el.innerHTML = html;
  wirePanel(el);
}

function wirePanel(el) {
  const on = (sel, ev, fn) => el.querySelector(sel)?.addEventListener(ev, fn);
  el.querySelectorAll('[data-open]').forEach((a) => a.addEventListener('click', (e) => { e.preventDefault(); openDraft(a.dataset.open); }));
  on('#edit-new', 'submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      const d = await write('POST', '/v1/drafts', { title: f.get('title'), scope: f.get('scope'), effective_date: f.get('effective_date') || undefined });
      ed.message = '';
      await openDraft(d.id);
    } catch (err) { ed.message = err.message; render(); }
  });
  on('#edit-parent-form', 'submit', async (e) => {
    e.preventDefault();
    ed.parent = el.querySelector('#edit-parent').value.trim();
    ed.picked = [];
    try { await loadNeighbourhood(); fitNeighbourhood(); ed.message = ''; } catch (err) { ed.message = err.message; }
    render();
  });
  el.querySelectorAll('[data-tool]').forEach((b) => b.addEventListener('click', () => setTool(b.dataset.tool)));
  on('#edit-merge', 'click', async () => {
    const keep = Number(el.querySelector('#edit-keep').value);
    const grids = [keep, ...ed.picked.filter((x) => x !== keep)];
    if (await op({ op: 'merge', grids, keep_code: keep })) { ed.picked = []; drawNeighbourhood(); render(); }
  });
  on('#edit-retire', 'click', async () => {
    if (await op({ op: 'retire', grid: ed.picked[0], to: ed.picked[1] })) { ed.picked = []; drawNeighbourhood(); render(); }
  });
  on('#edit-attrs', 'submit', async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const num = (k) => (f.get(k) === '' ? undefined : Number(f.get(k)));
    await op({ op: 'attributes', grid: ed.picked[0], name: f.get('name'), households: num('households'), population: num('population'),
      four_bounds: { east: f.get('east'), south: f.get('south'), west: f.get('west'), north: f.get('north') }, recompute_four_bounds: f.get('recompute') === 'on' });
  });
  on('#edit-undo-point', 'click', () => { ed.td?.undo(); });
  on('#edit-undo', 'click', () => act(`/v1/drafts/${ed.draft.id}/undo`));
  on('#edit-redo', 'click', () => act(`/v1/drafts/${ed.draft.id}/redo`));
  on('#edit-before-after', 'change', async (e) => { ed.beforeAfter = e.target.checked; try { await loadBeforeAfter(); } catch (err) { ed.message = err.message; render(); } });
  el.querySelectorAll('.edit-ack').forEach((c) => c.addEventListener('change', () => {
    const set = new Set(ed.draft.acknowledged || []);
    c.checked ? set.add(c.value) : set.delete(c.value);
    ed.draft.acknowledged = [...set];
  }));
  el.querySelectorAll('a.edit-problem').forEach((a) => a.addEventListener('click', (e) => {
    e.preventDefault();
    const key = a.closest('li').dataset.key;
    const p = ed.draft.problems.find((x) => x.key === key);
    if (!p?.geometry) return;
    let b = [Infinity, Infinity, -Infinity, -Infinity];
    const walk = (c) => { if (typeof c[0] === 'number') b = [Math.min(b[0], c[0]), Math.min(b[1], c[1]), Math.max(b[2], c[0]), Math.max(b[3], c[1])]; else c.forEach(walk); };
    walk(p.geometry.coordinates);
    ed.map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 120, maxZoom: 17 });
  }));
  on('#edit-submit', 'click', () => act(`/v1/drafts/${ed.draft.id}/submit`, { acknowledge: [...el.querySelectorAll('.edit-ack:checked')].map((c) => c.value) }, { reload: false }));
  on('#edit-approve', 'click', () => act(`/v1/drafts/${ed.draft.id}/approve`, { comment: el.querySelector('#edit-comment').value }, { reload: false }));
  on('#edit-return', 'click', () => act(`/v1/drafts/${ed.draft.id}/return`, { comment: el.querySelector('#edit-comment').value }, { reload: false }));
  on('#edit-withdraw', 'click', () => act(`/v1/drafts/${ed.draft.id}/withdraw`, undefined, { reload: false }));
  on('#edit-publish', 'click', async () => {
    const d = await act(`/v1/drafts/${ed.draft.id}/publish`, undefined, { reload: false });
    if (d) showDate(d.effective_date);
  });
  on('#edit-show-date', 'click', () => showDate(ed.draft.effective_date));
  on('#edit-today', 'click', () => showDate(''));
  on('#edit-close', 'click', () => closeDraft());
}

// showDate points the map's tile sources at the grids valid on date ('' for today's).
export function showDate(date) {
  ed.date = date;
  const style = ed.map.getStyle();
  for (const [id, src] of Object.entries(style.sources)) {
    if (src.type !== 'vector' || !src.url) continue;
    const u = new URL(src.url, location.href);
    if (date) u.searchParams.set('at', date); else u.searchParams.delete('at');
    ed.map.getSource(id).setUrl(u.toString());
  }
  render();
}

export async function openDraft(id) {
  try {
    const d = await get(`/v1/drafts/${id}`);
    ed.draft = d;
    ed.parent = d.scope?.code || '';
    ed.picked = [];
    ed.tool = 'pick';
    ed.message = '';
    // A reviewer sees the before/after view at once.
    ed.beforeAfter = d.state !== 'draft';
    addLayers();
    await loadNeighbourhood();
    fitNeighbourhood();
    await loadBeforeAfter();
  } catch (err) {
    ed.message = err.message;
  }
  render();
}

export async function closeDraft() {
  stopDrawing();
  ed.draft = null;
  ed.nb = EMPTY;
  ed.inner = [];
  ed.picked = [];
  ed.message = '';
  removeLayers();
  await refreshLists();
}

async function refreshLists() {
  try {
    ed.list = can('grids.write') ? (await get('/v1/drafts?mine=1')).drafts : [];
    ed.queue = can('drafts.review') ? (await get('/v1/drafts?queue=1')).drafts : [];
  } catch (err) { ed.message = err.message; }
  render();
}

// accountChanged is called when who is signed in changes: the lists are theirs.
export async function accountChanged() {
  if (!ed.map) return;
  if (ed.draft) await closeDraft();
  await refreshLists();
}

// initEdit adds the edit panel; deps: {state} of main.js.
export function initEdit(map, deps) {
  ed.map = map;
  ed.deps = deps;
  wireMap();
  window.gridlineEdit = ed;
  return refreshLists();
}
