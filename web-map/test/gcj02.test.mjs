// The GCJ-02 conversion of the web map against the published references geo/crs_test.go uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wgs84ToGcj02, gcj02ToWgs84 } from '../src/gcj02.js';

const refs = [
  ['eviltransform shanghai', 121.5272106, 31.1774276, 121.531541859215, 31.17530398364597],
  ['eviltransform shenzhen', 113.912316, 22.543847, 113.9171764808363, 22.540796131694766],
  ['eviltransform beijing', 116.377817, 39.911954, 116.38404722455657, 39.91334545536069],
  ['coordtransform wgs84togcj02', 116.404, 39.915, 116.41024449916938, 39.91640428150164],
];

test('forward transform matches the published references', () => {
  for (const [name, lon, lat, gLon, gLat] of refs) {
    const [x, y] = wgs84ToGcj02(lon, lat);
    assert.ok(Math.abs(x - gLon) < 1e-9 && Math.abs(y - gLat) < 1e-9, `${name}: got ${x},${y}`);
  }
});

test('inverse round-trips under a millimetre', () => {
  for (const [lon, lat] of [[113.6253, 34.7466], [113.60, 34.70], [121.5, 31.2]]) {
    const [gx, gy] = wgs84ToGcj02(lon, lat);
    const [x, y] = gcj02ToWgs84(gx, gy);
    assert.ok(Math.abs(x - lon) < 1e-8 && Math.abs(y - lat) < 1e-8, `${lon},${lat} -> ${x},${y}`);
  }
});

test('outside China nothing changes', () => {
  assert.deepEqual(wgs84ToGcj02(2.35, 48.85), [2.35, 48.85]);
  assert.deepEqual(gcj02ToWgs84(2.35, 48.85), [2.35, 48.85]);
});
