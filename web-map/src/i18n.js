// The UI's words, Chinese first (the glossary's terms), English on request.
const dict = {
  zh: {
    title: '网格地图', switchLang: 'English', search: '按名称或编码搜索网格…', hierarchy: '网格层级', layers: '图层',
    legend: '图例', levels: '综合网格', specialGroup: '专属网格', thematic: '专题网格', labels: '名称标注', basemap: '底图',
    here: '这里是哪', hereOn: '点击地图查询（再按一次关闭）', hereHint: 'Alt+点击或右键也可查询', cursor: '光标',
    code: '编码', name: '名称', level: '级别', layer: '图层', kind: '类型', parents: '上级', households: '户数',
    population: '人口', staff: '人员', vacant: '主岗空缺', vacantLegend: '主岗空缺网格', staffed: '已配备', fallback: '兜底',
    from: '来自', version: '边界版本', validFrom: '生效', validTo: '失效', current: '至今', history: '版本历史',
    fourBounds: '四至', east: '东至', south: '南至', west: '西至', north: '北至', children: '下级数量',
    point: '位置', covered: '已覆盖', notCovered: '不在任何网格内', nearest: '最近网格', chain: '所属网格',
    responsible: '责任人', nearBoundary: '临近边界', onBoundary: '位于边界上', boundaryDist: '距网格边界',
    special: '专属网格', thematicGrids: '专题网格', none: '无', noResults: '无结果', loading: '加载中…', more: '更多',
    close: '关闭', error: '出错', highlight: '选中', labelPoint: '标注点（绿：已配备，红：空缺）', m: '米',
    noBasemap: '无底图（仅网格）', mapDatum: '地图坐标系',
  },
  en: {
    title: 'Grid map', switchLang: '中文', search: 'Search grids by name or code…', hierarchy: 'Hierarchy', layers: 'Layers',
    legend: 'Legend', levels: 'Comprehensive grids', specialGroup: 'Special grids', thematic: 'Thematic layers', labels: 'Labels', basemap: 'Basemap',
    here: 'What is here', hereOn: 'Click the map to ask (press again to stop)', hereHint: 'or Alt+click / right-click', cursor: 'Cursor',
    code: 'Code', name: 'Name', level: 'Level', layer: 'Layer', kind: 'Kind', parents: 'Parents', households: 'Households',
    population: 'Population', staff: 'Staff', vacant: 'primary post vacant', vacantLegend: 'grid with a vacant primary post', staffed: 'staffed', fallback: 'fallback',
    from: 'from', version: 'Boundary version', validFrom: 'valid from', validTo: 'valid to', current: 'current', history: 'Versions',
    fourBounds: 'Four bounds', east: 'East', south: 'South', west: 'West', north: 'North', children: 'Children',
    point: 'Point', covered: 'covered', notCovered: 'in no grid', nearest: 'Nearest grid', chain: 'Grids here',
    responsible: 'Responsible', nearBoundary: 'Near boundary', onBoundary: 'on the boundary', boundaryDist: 'To the grid edge',
    special: 'Special grids', thematicGrids: 'Thematic grids', none: 'none', noResults: 'no results', loading: 'loading…', more: 'more',
    close: 'Close', error: 'Error', highlight: 'selected', labelPoint: 'label point (green staffed, red vacant)', m: 'm',
    noBasemap: 'no basemap (grids only)', mapDatum: 'map datum',
  },
};

const levels = {
  zh: { district: '区/县', subdistrict: '街道/乡镇', community: '社区/村', grid: '基础网格', micro: '微网格' },
  en: { district: 'district', subdistrict: 'subdistrict', community: 'community', grid: 'basic grid', micro: 'micro grid' },
};

const tileLayers = {
  zh: { districts: '区/县', subdistricts: '街道', communities: '社区', grids: '基础网格', micros: '微网格', special: '专属网格', police: '警务网格' },
  en: { districts: 'Districts', subdistricts: 'Subdistricts', communities: 'Communities', grids: 'Basic grids', micros: 'Micro grids', special: 'Special grids', police: 'Police grids' },
};

const layerNames = {
  zh: { comprehensive: '综合网格', special: '专属网格', police: '警务网格' },
  en: { comprehensive: 'comprehensive', special: 'special', police: 'police' },
};

const roles = {
  zh: {
    grid_chief: '网格长', full_time_worker: '专职网格员', part_time_worker: '兼职网格员', building_steward: '楼栋长',
    police_officer: '社区民警', assigned_cadre: '下沉干部', department_liaison: '部门联络人',
  },
  en: {
    grid_chief: 'grid chief', full_time_worker: 'full-time grid worker', part_time_worker: 'part-time grid worker',
    building_steward: 'building steward', police_officer: 'community police officer', assigned_cadre: 'assigned cadre',
    department_liaison: 'department liaison',
  },
};

const kinds = {
  zh: { school: '学校', hospital: '医院', market: '市场', industrial_park: '产业园区', mall: '商场' },
  en: { school: 'school', hospital: 'hospital', market: 'market', industrial_park: 'industrial park', mall: 'mall' },
};

export let lang = 'zh';
export function setLang(l) { lang = l === 'en' ? 'en' : 'zh'; }
export const t = (k) => dict[lang][k] ?? dict.zh[k] ?? k;
export const levelName = (l) => levels[lang][l] ?? l;
export const tileLayerName = (l) => tileLayers[lang][l] ?? l;
export const layerName = (l) => layerNames[lang][l] ?? l;
export const roleName = (r) => roles[lang][r] ?? r;
export const kindName = (k) => kinds[lang][k] ?? k;
