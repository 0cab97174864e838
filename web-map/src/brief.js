// The monthly brief's charts (GET /v1/stats/brief.html): this file is bundled on its own (an IIFE,
// no imports at run time) and inlined into the brief by the server, so that the brief prints with
// no network. Each page carries its data in <script type="application/json" class="brief-data">.
// When every chart is drawn, body[data-ready="1"] tells the PDF printer it may print.
import { Chart, COLOURS } from './charts.js';

function draw() {
  for (const el of document.querySelectorAll('.page')) {
    const src = el.querySelector('.brief-data');
    if (!src) continue;
    const d = JSON.parse(src.textContent);
    const common = { animation: false, responsive: false, devicePixelRatio: 1, plugins: { legend: { labels: { boxWidth: 12, font: { size: 13 } } } },
      scales: { x: { ticks: { font: { size: 12 } } }, y: { beginAtZero: true, ticks: { font: { size: 12 }, precision: 0 } } } };
    const days = el.querySelector('canvas[data-chart="days"]');
    if (days) new Chart(days, { type: 'bar', data: { labels: d.days, datasets: [
      { label: '上报 reported', data: d.reported, backgroundColor: COLOURS.reported },
      { label: '结案 closed', data: d.closed, backgroundColor: COLOURS.closed },
    ] }, options: common });
    const classes = el.querySelector('canvas[data-chart="classes"]');
    if (classes) new Chart(classes, { type: 'bar', data: { labels: d.classes, datasets: [
      { label: '上报 reported', data: d.class_reported, backgroundColor: COLOURS.reported },
      { label: '结案 closed', data: d.class_closed, backgroundColor: COLOURS.closed },
    ] }, options: { ...common, indexAxis: 'y', scales: { x: { beginAtZero: true, ticks: { font: { size: 12 }, precision: 0 } }, y: { ticks: { font: { size: 12 } } } } } });
  }
}

try { draw(); } catch (e) { document.body.dataset.error = String(e && e.message || e); }
document.body.dataset.ready = '1';
