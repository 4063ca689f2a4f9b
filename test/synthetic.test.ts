// The embedded synthetic dataset: deterministic per seed (and per image index), exact 0/1 masks with a
// plausible amount of foreground, and a PNG round trip through scanDataset/loadSample that gives the
// masks back exactly, as `alcli demo` will use it; the 3-class label maps (`alcli demo --classes 3`)
// over the same images.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scanDataset } from '../src/train/dataset.js';
import { loadSample } from '../src/train/load.js';
import { encodeLabelPng, encodePng, syntheticDataset, SYNTHETIC_CLASSES } from '../src/train/synthetic.js';

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

test('classes 3: the same images, label maps whose foreground is the binary mask, cells (1) bright and vessels (2) dark', () => {
  const shapes: [number | [number, number], 1 | 3][] = [[64, 3], [[40, 72], 1]];
  for (const [size, channels] of shapes) {
    const binary = syntheticDataset(7, { count: 4, size, channels });
    const labelled = syntheticDataset(7, { count: 4, size, channels, classes: 3 });
    for (let i = 0; i < 4; i++) {
      const { image, mask } = labelled[i];
      assert.equal(image.data, binary[i].image.data, 'the images do not depend on the classes');
      assert.equal(Float32Array.from(mask.data, (l) => (l > 0 ? 1 : 0)), binary[i].mask.data);
      const n = mask.data.length;
      const count = [0, 1, 2].map((k) => mask.data.filter((l) => l === k).length);
      assert.is(count[0] + count[1] + count[2], n, 'labels are 0, 1, 2 only');
      assert.ok(count[1] > 0.005 * n && count[2] > 0.005 * n, `${labelled[i].id}: cells ${count[1]}, vessels ${count[2]} of ${n}`);
      // mean gray of each class: the cell adds brightness, the vessel halves it
      const mean = [0, 1, 2].map((k) => {
        let sum = 0;
        for (let p = 0; p < n; p++) if (mask.data[p] === k) for (let c = 0; c < channels; c++) sum += image.data[p * channels + c];
        return sum / (count[k] * channels);
      });
      assert.ok(mean[1] > mean[0] + 0.1 && mean[2] < mean[0] - 0.1, `${labelled[i].id}: class means ${mean}`);
    }
  }
  assert.equal([...SYNTHETIC_CLASSES], ['background', 'cell', 'vessel']);
});

test('encodeLabelPng: a gray 8-bit PNG holding the class indices themselves; non-labels refused', async () => {
  const [s] = syntheticDataset(2, { count: 1, size: [24, 40], classes: 3 });
  const png = await encodeLabelPng(s.mask);
  const meta = await sharp(png).metadata();
  assert.equal([meta.channels, meta.depth, meta.width, meta.height], [1, 'uchar', 40, 24]);
  const raw = await sharp(png).extractChannel(0).raw().toBuffer();
  assert.equal(Float32Array.from(raw), s.mask.data);
  for (const bad of [0.5, 256, -1]) {
    const refused = await encodeLabelPng({ ...s.mask, data: Float32Array.of(bad, ...s.mask.data.subarray(1)) }).then(() => '', (e: Error) => e.message);
    assert.match(refused, `label ${bad} is not an integer in 0..255`);
  }
});

test.run();
