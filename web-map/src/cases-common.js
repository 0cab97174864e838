// What the dispatcher's console (console.js) and the grid worker's phone page (worker.js) share:
// the words of the case loop (Chinese first), requests with the session's CSRF token that keep the
// status and error code, and the traffic light computed on the page's own clock from the due
// times, so that a case turns red when it becomes late without asking the server.
import { lang } from './i18n.js';
import { session } from './account.js';

const words = {
  zh: {
    console: '指挥调度台', worker: '网格员', queue: '待办队列（按期限）', filters: '筛选', all: '全部', state: '状态', light: '灯',
    category: '类别', grid: '网格（含下级）', department: '部门', source: '来源', due: '期限', warn: '预警', started: '开始',
    what: '事项', where: '位置', photos: '照片', routing: '派遣依据', rule: '规则', fallback: '兜底', steps: '环节时限',
    timeline: '处置过程', actions: '操作', reason: '理由/意见', file: '立案', void: '作废', dispatch: '派遣',
    dispatchTo: '派遣给', suggested: '建议派遣', redispatch: '重新派遣', approveExt: '批准延期', supervise: '督办', verify: '核查通过',
    close: '结案', rework: '返工', merge: '合并到', sign: '签收', reportBack: '反馈（附照片）', handle: '处置完成', intake: '热线受理',
    address: '地址', locate: '定位地址', pickOnMap: '在地图上点选位置', picked: '已选位置', description: '描述', reporter: '来电人',
    phone: '电话', urgency: '紧急', submit: '提交', duplicates: '附近可能重复的案件', noDuplicates: '附近无相似案件',
    conflict: '此案件刚被他人更改，已重新载入，请确认后再操作', signInFirst: '请先登录（调度员账号）', live: '实时', offline: '实时连接中断，重连中…',
    responsible: '责任人', fourBounds: '四至', east: '东至', south: '南至', west: '西至', north: '北至', none: '无', party: '承办方',
    myGrids: '我的网格', myCases: '我的案件', newFind: '上报新发现', useGPS: '使用手机定位', selfHandled: '已当场处置（自处置）',
    photo: '拍照', sent: '已提交', gpsNote: 'GPS 坐标为 WGS84', noCases: '没有待办案件', outside: '不在网格内', number: '编号',
    reported: '上报', urgent: '紧急', normal: '一般', closeCard: '关闭', noAddress: '地址解析不可用：请在地图上点选',
    chooseCategory: '搜索并选择类别…', chooseParty: '选择其他承办方…', workerOf: '网格员：', failed: '失败',
  },
  en: {
    console: "Dispatcher's console", worker: 'Grid worker', queue: 'Queue (by due time)', filters: 'Filters', all: 'all', state: 'State', light: 'Light',
    category: 'Category', grid: 'Grid (and below)', department: 'Department', source: 'Source', due: 'Due', warn: 'Warn', started: 'Started',
    what: 'What', where: 'Where', photos: 'Photos', routing: 'Routing', rule: 'Rule', fallback: 'fallback', steps: 'Step deadlines',
    timeline: 'Timeline', actions: 'Actions', reason: 'Reason / note', file: 'File', void: 'Void', dispatch: 'Dispatch',
    dispatchTo: 'Dispatch to', suggested: 'Dispatch to suggested', redispatch: 'Re-dispatch', approveExt: 'Approve extension', supervise: 'Supervision notice', verify: 'Verify',
    close: 'Close', rework: 'Return for rework', merge: 'Merge into', sign: 'Sign for', reportBack: 'Report back (with photo)', handle: 'Handled', intake: 'Hotline intake',
    address: 'Address', locate: 'Find address', pickOnMap: 'Click the map to place it', picked: 'Point', description: 'Description', reporter: 'Caller',
    phone: 'Phone', urgency: 'Urgent', submit: 'Submit', duplicates: 'Possible duplicates nearby', noDuplicates: 'no similar case nearby',
    conflict: 'Someone else changed this case just now; it was reloaded: check it and act again', signInFirst: 'Sign in first (a dispatcher account)', live: 'live', offline: 'live connection lost, reconnecting…',
    responsible: 'Responsible', fourBounds: 'Four bounds', east: 'East', south: 'South', west: 'West', north: 'North', none: 'none', party: 'Party',
    myGrids: 'My grids', myCases: 'My cases', newFind: 'Report a new find', useGPS: "Use the phone's position", selfHandled: 'Handled on the spot (self-handled)',
    photo: 'Photo', sent: 'Sent', gpsNote: 'GPS coordinates are WGS84', noCases: 'no open cases', outside: 'outside every grid', number: 'Number',
    reported: 'Reported', urgent: 'urgent', normal: 'normal', closeCard: 'Close', noAddress: 'no address resolver: click the map instead',
    chooseCategory: 'Search and pick a category…', chooseParty: 'Another party…', workerOf: 'grid worker: ', failed: 'failed',
  },
};
export const w = (k) => words[lang][k] ?? words.zh[k] ?? k;

const stateNames = {
  zh: { reported: '已上报', filed: '已立案', voided: '已作废', merged: '已合并', dispatched: '已派遣', signed_for: '已签收', returned: '已退回',
    handled: '已处置', reported_back: '已反馈', verified: '已核查', closed: '已结案', evaluated: '已评价', postponed: '缓办' },
  en: { reported: 'reported', filed: 'filed', voided: 'voided', merged: 'merged', dispatched: 'dispatched', signed_for: 'signed for', returned: 'returned',
    handled: 'handled', reported_back: 'reported back', verified: 'verified', closed: 'closed', evaluated: 'evaluated', postponed: 'postponed' },
};
export const stateName = (s) => stateNames[lang][s] ?? s;
const sourceNames = {
  zh: { patrol: '网格员巡查', hotline: '12345热线', camera: '视频/感知', public: '群众上报', open311: 'Open311', assignment: '上级交办' },
  en: { patrol: 'patrol', hotline: 'hotline', camera: 'camera', public: 'public', open311: 'Open311', assignment: 'assignment' },
};
export const sourceName = (s) => sourceNames[lang][s] ?? s;
const kindNames = {
  zh: { report: '上报', file: '立案', void: '作废', merge: '合并', dispatch: '派遣', sign: '签收', return: '退回', handle: '处置', report_back: '反馈',
    verify: '核查', rework: '返工', close: '结案', evaluate: '评价', request_extension: '申请延期', approve_extension: '批准延期', reject_extension: '驳回延期',
    postpone: '缓办', resume: '恢复', co_handle: '协办', self_handle: '自处置', supervise: '督办', escalate: '升级', near_boundary_notice: '临界告知' },
};
// kindName names an event kind or a step (the steps are named after the kinds that end them).
export const kindName = (k) => (lang === 'en' ? String(k).replace(/_/g, ' ') : kindNames.zh[k] ?? k);
const lightNames = { zh: { red: '红灯（超期）', yellow: '黄灯（临期）', green: '绿灯', '': '无时限' }, en: { red: 'red (late)', yellow: 'yellow (due soon)', green: 'green', '': 'no limit' } };
export const lightName = (l) => lightNames[lang][l ?? ''] ?? l;
export const LIGHT_COLOURS = { red: '#e03131', yellow: '#f59f00', green: '#2f9e44', '': '#868e96' };

// The open states, as dispatch.State.Open says.
export const OPEN_STATES = ['reported', 'filed', 'dispatched', 'signed_for', 'returned', 'handled', 'reported_back', 'verified', 'postponed'];

export const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

// fmtTime shows a time in the district's zone (the browser's; gridline's districts are in China).
export const fmtTime = (s) => {
  if (!s) return '';
  const d = new Date(s);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getMonth() + 1}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
};

// send makes a request and answers {ok, status, body}; writes carry the CSRF token.
export async function send(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && session.csrf_token) headers['X-CSRF-Token'] = session.csrf_token;
  if (body !== undefined && !(body instanceof FormData)) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body instanceof FormData ? body : body === undefined ? undefined : JSON.stringify(body) });
  let out = null;
  try { out = await res.json(); } catch { /* not JSON */ }
  return { ok: res.ok, status: res.status, body: out };
}

export async function get(path) {
  const r = await send('GET', path);
  if (!r.ok) throw new Error(r.body?.error?.message || `HTTP ${r.status}`);
  return r.body;
}

// deadlineOf is the earliest warn and due time of a full case's open steps.
export function deadlineOf(c) {
  let warn = null; let due = null;
  for (const s of c.steps || []) {
    if (s.ended_at || !s.due_at) continue;
    if (!due || s.due_at < due) due = s.due_at;
    if (s.warn_at && (!warn || s.warn_at < warn)) warn = s.warn_at;
  }
  return due ? { warn_at: warn, due_at: due } : null;
}

const LIGHT_RANK = { green: 1, yellow: 2, red: 3 };

// lightAt is a case's light at time now (ms) from its deadline, as the server computes it: red
// once due, yellow once warned, green before; '' without a limit or when the case is not open.
// seen is the light the server gave when it last sent the case (or the step): on the server's
// clock, which may be ahead of the page's, so the worse of the two is shown.
export function lightAt(c, d, now, seen = c.light) {
  if (!OPEN_STATES.includes(c.state) || !d?.due_at) return '';
  let l = 'green';
  if (now >= Date.parse(d.due_at)) l = 'red';
  else if (d.warn_at && now >= Date.parse(d.warn_at)) l = 'yellow';
  return (LIGHT_RANK[seen] || 0) > LIGHT_RANK[l] ? seen : l;
}
