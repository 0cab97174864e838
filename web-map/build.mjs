// Builds the web map into dist/: app.js (the app with MapLibre GL JS bundled by esbuild), MapLibre's
// worker and CSS, index.html and app.css, with .gz siblings the Go server sends to gzip clients.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const mlDist = join(here, 'node_modules', 'maplibre-gl', 'dist');

for (const f of readdirSync(dist, { withFileTypes: true })) {
  if (f.name !== '.keep') rmSync(join(dist, f.name), { recursive: true, force: true });
}
mkdirSync(dist, { recursive: true });

await build({
  // The grid map (app.js), the dispatcher's console (console.js) and the grid worker's phone page
  // (worker.js, no MapLibre) and the statistics page (stats.js): shared code goes into chunks, so
  // the phone page stays small.
  entryPoints: { app: join(here, 'src', 'main.js'), console: join(here, 'src', 'console.js'), worker: join(here, 'src', 'worker.js'), stats: join(here, 'src', 'stats.js') },
  outdir: dist,
  splitting: true,
  chunkNames: 'chunk-[hash]',
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  sourcemap: false,
  legalComments: 'eof',
  logLevel: 'warning',
});
// The monthly brief's charts (brief.js): one self-contained classic script, which the server
// inlines into GET /v1/stats/brief.html so that the brief prints with no network.
await build({
  entryPoints: { brief: join(here, 'src', 'brief.js') },
  outdir: dist,
  bundle: true,
  format: 'iife',
  target: ['es2022'],
  minify: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
copyFileSync(join(mlDist, 'maplibre-gl-worker.mjs'), join(dist, 'maplibre-gl-worker.mjs'));
copyFileSync(join(mlDist, 'maplibre-gl.css'), join(dist, 'maplibre-gl.css'));
copyFileSync(join(here, 'src', 'index.html'), join(dist, 'index.html'));
copyFileSync(join(here, 'src', 'app.css'), join(dist, 'app.css'));
for (const f of ['console.html', 'console.css', 'worker.html', 'worker.css', 'stats.html', 'stats.css']) copyFileSync(join(here, 'src', f), join(dist, f));

let total = 0;
for (const name of readdirSync(dist)) {
  if (name.startsWith('.')) continue;
  const data = readFileSync(join(dist, name));
  total += data.length;
  if (data.length > 1024) writeFileSync(join(dist, name + '.gz'), gzipSync(data, { level: 9 }));
}
console.log(`web-map: built dist/ (${(total / 1024).toFixed(0)} KiB before gzip)`);
