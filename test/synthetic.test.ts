// The embedded synthetic dataset: deterministic per seed (and per image index), exact 0/1 masks with a
// plausible amount of foreground, and a PNG round trip through scanDataset/loadSample that gives the
// masks back exactly, as `alcli demo` will use it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scanDataset } from '../src/train/dataset.js';
import { loadSample } from '../src/train/load.js';
import { encodePng, syntheticDataset } from '../src/train/synthetic.js';

test('the same seed gives the same images; another seed others; a larger count only adds images', () => {
  const a = syntheticDataset(3, { count: 4, size: 48 });
  assert.equal(syntheticDataset(3, { count: 4, size: 48 }), a);
  assert.equal(syntheticDataset(3, { count: 6, size: 48 }).slice(0, 4), a);
  const b = syntheticDataset(4, { count: 4, size: 48 });
  for (let i = 0; i < 4; i++) assert.not.equal(b[i].mask.data, a[i].mask.data);
  assert.equal(a.map((s) => s.id), ['img000', 'img001', 'img002', 'img003']);
});

const shapeCases: [string, number | [number, number], 1 | 3 | undefined, [number, number, number]][] = [
  ['square RGB (default)', 64, undefined, [64, 64, 3]],
  ['non-square gray', [40, 72], 1, [40, 72, 1]],
  ['larger', 256, 3, [256, 256, 3]],
];
for (const [name, size, channels, [h, w, c]] of shapeCases) {
  test(`synthetic ${name}: images in [0, 1], masks exactly 0/1 with 1-40 % foreground`, () => {
    for (const s of syntheticDataset(11, { count: 5, size, channels })) {
      assert.equal([s.image.height, s.image.width, s.image.channels, s.mask.height, s.mask.width, s.mask.channels], [h, w, c, h, w, 1]);
      assert.ok(s.image.data.every((v) => v >= 0 && v <= 1));
      assert.ok(s.mask.data.every((v) => v === 0 || v === 1));
      const fg = s.mask.data.reduce((a, b) => a + b, 0) / (h * w);
      assert.ok(fg > 0.01 && fg < 0.4, `${s.id}: foreground ${fg}`);
    }
  });
}

test('the mask marks where the image differs from its surroundings', () => {
  // mean absolute difference between each pixel and the background texture's local level is larger on the mask
  const [s] = syntheticDataset(5, { count: 1, size: 128, channels: 1 });
  const { data: x, width: w, height: h } = s.image;
  let fg = 0;
  let bg = 0;
  let nf = 0;
  let nb = 0;
  for (let y = 4; y < h - 4; y++)
    for (let xx = 4; xx < w - 4; xx++) {
      let sum = 0;
      for (let dy = -4; dy <= 4; dy++) for (let dx = -4; dx <= 4; dx++) sum += x[(y + dy) * w + xx + dx];
      const d = Math.abs(x[y * w + xx] - sum / 81);
      if (s.mask.data[y * w + xx]) (fg += d), nf++;
      else (bg += d), nb++;
    }
  assert.ok(fg / nf > 2 * (bg / nb), `contrast on the mask ${fg / nf}, off it ${bg / nb}`);
});

test('encodePng then scanDataset + loadSample gives the masks back exactly and the images to 8 bits', async () => {
  const root = mkdtempSync(join(tmpdir(), 'alcli-syn-'));
  try {
    const samples = syntheticDataset(9, { count: 4, size: [24, 32] });
    for (const d of ['images', 'masks']) mkdirSync(join(root, d));
    for (const s of samples) {
      writeFileSync(join(root, 'images', `${s.id}.png`), await encodePng(s.image));
      writeFileSync(join(root, 'masks', `${s.id}.png`), await encodePng(s.mask));
    }
    const meta = await sharp(join(root, 'masks', 'img000.png')).metadata();
    assert.is(meta.channels, 1, 'masks are gray PNGs');
    const r = await scanDataset(root, { need: [] });
    assert.equal(r.errors, []);
    for (const sample of r.dataset!.samples) {
      const want = samples.find((s) => s.id === sample.id)!;
      const got = await loadSample(sample, { channels: 3 });
      assert.equal(got.mask.data, want.mask.data);
      for (let i = 0; i < want.image.data.length; i++)
        if (Math.abs(got.image.data[i] - want.image.data[i]) > 0.5 / 255 + 1e-6) assert.unreachable(`${sample.id} at ${i}: ${got.image.data[i]} vs ${want.image.data[i]}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
