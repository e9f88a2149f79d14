// What a browser downloads for the UI: all our JS and CSS plus uPlot, gzipped.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('UI weight', () => {
  it('stays under 200 KB of JS and CSS, gzipped', () => {
    const assets = [
      ...files('public').filter((f) => /\.(js|css|html)$/.test(f)),
      'node_modules/uplot/dist/uPlot.esm.js',
      'node_modules/uplot/dist/uPlot.min.css',
    ];
    const gz = assets.reduce((a, f) => a + gzipSync(readFileSync(f), { level: 9 }).length, 0);
    expect(gz).toBeLessThan(200 * 1024);
  });
});
