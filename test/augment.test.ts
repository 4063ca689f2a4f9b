// Augmentation: the 8 dihedral transforms by hand and as a group (bijections, distinct, inverses),
// shifts and crops with reflect fill, pad-to-stride round trips, and the property that matters for
// training: under every random augmentation the mask and the FOV stay aligned with the image.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { augment, crop, cropTo, dihedral, drawAugment, inverseDihedral, padToMultiple, sampleSeed, translate, type AugmentOptions } from '../src/train/augment.js';
import { hwc, reflectIndex, type HwcImage } from '../src/train/image.js';
import { rng } from '../src/ir/weights.js';

const img = (rows: number[][], channels = 1): HwcImage => hwc(rows.length, rows[0].length / channels, channels, Float32Array.from(rows.flat()));
const rows = (x: HwcImage) => Array.from({ length: x.height }, (_, y) => [...x.data.subarray(y * x.width * x.channels, (y + 1) * x.width * x.channels)]);
/** h x w x c with every value different */
const unique = (h: number, w: number, c = 1) => hwc(h, w, c, Float32Array.from({ length: h * w * c }, (_, i) => i));

const square = img([[1, 2], [3, 4]]);
const dihedralCases: [number, string, number[][]][] = [
  [0, 'identity', [[1, 2], [3, 4]]],
  [1, 'rotate 90 counter-clockwise', [[2, 4], [1, 3]]],
  [2, 'rotate 180', [[4, 3], [2, 1]]],
  [3, 'rotate 90 clockwise', [[3, 1], [4, 2]]],
  [4, 'mirror left-right', [[2, 1], [4, 3]]],
  [5, 'mirror, then rotate 90 ccw (transpose about the anti-diagonal)', [[1, 3], [2, 4]]],
  [6, 'mirror, then rotate 180 (mirror up-down)', [[3, 4], [1, 2]]],
  [7, 'mirror, then rotate 90 cw (transpose)', [[4, 2], [3, 1]]],
];
for (const [k, name, want] of dihedralCases) {
  test(`dihedral ${k}: ${name}`, () => assert.equal(rows(dihedral(square, k)), want));
}

test('dihedral of a non-square image: odd k swaps height and width, channels move together', () => {
  const x = img([[1, 10, 2, 20, 3, 30], [4, 40, 5, 50, 6, 60]], 2); // 2x3, 2 channels
  const r = dihedral(x, 1);
  assert.equal([r.height, r.width, r.channels], [3, 2, 2]);
  assert.equal(rows(r), [[3, 30, 6, 60], [2, 20, 5, 50], [1, 10, 4, 40]]);
});

for (const [h, w, c] of [[5, 5, 1], [4, 7, 3], [1, 6, 2]]) {
  test(`the 8 dihedral transforms of ${h}x${w}x${c} are bijections, pairwise distinct, and invertible`, () => {
    const x = unique(h, w, c);
    const outs = Array.from({ length: 8 }, (_, k) => dihedral(x, k));
    for (const [k, o] of outs.entries()) {
      assert.equal([...o.data].sort((a, b) => a - b), [...x.data], `k = ${k} is a permutation of the pixels`);
      for (let i = 0; i < o.data.length; i += c) for (let q = 1; q < c; q++) assert.is(o.data[i + q], o.data[i] + q, 'channels stay together');
      assert.equal(dihedral(o, inverseDihedral(k)), x, `k = ${k} undone by ${inverseDihedral(k)}`);
    }
    const keys = new Set(outs.map((o) => `${o.height}x${o.width}:${o.data.join(',')}`));
    assert.is(keys.size, h === 1 ? 4 : 8, 'all 8 distinct (a single row has only 4 different images)');
  });
}

test('reflectIndex mirrors without repeating the edge, at any distance', () => {
  const cases: [number, number, number][] = [[0, 4, 0], [3, 4, 3], [-1, 4, 1], [-3, 4, 3], [4, 4, 2], [5, 4, 1], [6, 4, 0], [7, 4, 1], [-5, 4, 1], [-6, 4, 0], [9, 1, 0], [-2, 1, 0], [-1, 2, 1], [2, 2, 0]];
  for (const [i, n, want] of cases) assert.is(reflectIndex(i, n), want, `reflectIndex(${i}, ${n})`);
});

test('translate shifts with reflected borders', () => {
  const x = img([[1, 2, 3, 4]]);
  const cases: [number, number, number[]][] = [[0, 0, [1, 2, 3, 4]], [0, 1, [2, 1, 2, 3]], [0, -1, [2, 3, 4, 3]], [0, 2, [3, 2, 1, 2]], [1, 0, [1, 2, 3, 4]]];
  for (const [dy, dx, want] of cases) assert.equal(rows(translate(x, dy, dx))[0], want, `(${dy}, ${dx})`);
  const col = img([[1], [2], [3]]);
  assert.equal(rows(translate(col, 1, 0)).flat(), [2, 1, 2]);
});

test('crop takes a window; outside the image it reflects', () => {
  const x = img([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  assert.equal(rows(crop(x, 1, 1, 2, 2)), [[5, 6], [8, 9]]);
  assert.equal(rows(crop(x, -1, -1, 2, 5)), [[5, 4, 5, 6, 5], [2, 1, 2, 3, 2]]);
});

const padCases: [number, number, number | [number, number], [number, number], [number, number]][] = [
  // h, w, multiple, padded size, (top, left)
  [5, 7, 4, [8, 8], [1, 0]],
  [5, 7, 8, [8, 8], [1, 0]],
  [5, 7, [8, 2], [8, 8], [1, 0]],
  [8, 8, 8, [8, 8], [0, 0]],
  [3, 3, 16, [16, 16], [6, 6]],
  [1, 9, 32, [32, 32], [15, 11]],
];
for (const [h, w, m, size, offset] of padCases) {
  test(`padToMultiple ${h}x${w} to ${m}: ${size.join('x')}, and cropTo gives the image back`, () => {
    const x = unique(h, w, 2);
    const { image, box } = padToMultiple(x, m);
    assert.equal([image.height, image.width], size);
    assert.equal([box.top, box.left, box.height, box.width], [...offset, h, w]);
    assert.equal(cropTo(image, box), x);
    // every padded pixel is the reflection of an original one
    for (let y = 0; y < image.height; y++)
      for (let xx = 0; xx < image.width; xx++) {
        const sy = reflectIndex(y - box.top, h);
        const sx = reflectIndex(xx - box.left, w);
        assert.is(image.data[(y * image.width + xx) * 2], x.data[(sy * w + sx) * 2]);
      }
  });
}

// ---------- random augmentation ----------

/** An image whose channel 0 is each pixel's original index; mask and FOV are functions of that index. */
function tagged(h: number, w: number) {
  const image = hwc(h, w, 2, Float32Array.from({ length: h * w * 2 }, (_, i) => (i % 2 ? 0.5 : Math.floor(i / 2))));
  const mask = hwc(h, w, 1, Float32Array.from({ length: h * w }, (_, i) => (i % 3 === 0 ? 1 : 0)));
  const fov = hwc(h, w, 1, Float32Array.from({ length: h * w }, (_, i) => (i % 5 < 2 ? 1 : 0)));
  return { image, mask, fov };
}

const augmentCases: [string, number, number, AugmentOptions][] = [
  ['dihedral only, square', 12, 12, { dihedral: true }],
  ['dihedral only, non-square image', 9, 14, { dihedral: true }],
  ['translate only', 10, 13, { translate: 0.3 }],
  ['square crop + dihedral + translate', 20, 17, { dihedral: true, translate: 0.2, crop: [8, 8] }],
  ['non-square crop keeps its shape', 20, 17, { dihedral: true, translate: 0.1, crop: [6, 10] }],
  ['crop larger than the image reflects', 5, 7, { dihedral: true, translate: 0.5, crop: [16, 16] }],
];
for (const [name, h, w, opts] of augmentCases) {
  test(`augment (${name}): mask and FOV stay aligned with the image for 50 seeds`, () => {
    const v = tagged(h, w);
    const ks = new Set<number>();
    for (let seed = 0; seed < 50; seed++) {
      const r = rng(seed);
      const draw = drawAugment(h, w, opts, rng(seed).uniform);
      ks.add(draw.k);
      const out = augment(v, opts, r.uniform);
      const [ch, cw] = opts.crop ?? [h, w];
      const want = draw.k % 2 ? [cw, ch] : [ch, cw];
      for (const x of [out.image, out.mask, out.fov!]) assert.equal([x.height, x.width], want, 'shape');
      if (ch !== cw) assert.equal([out.image.height, out.image.width], [ch, cw], 'a non-square output keeps its shape');
      for (let i = 0; i < out.mask.data.length; i++) {
        const id = out.image.data[2 * i];
        if (out.mask.data[i] !== (id % 3 === 0 ? 1 : 0) || out.fov!.data[i] !== (id % 5 < 2 ? 1 : 0)) assert.unreachable(`seed ${seed}: pixel ${i} (from ${id}) lost its mask`);
        assert.is(out.image.data[2 * i + 1], 0.5);
      }
      assert.equal(augment(v, opts, rng(seed).uniform), out, 'the same seed, the same augmentation');
    }
    const [ch, cw] = opts.crop ?? [h, w];
    if (opts.dihedral) assert.is(ks.size, ch === cw ? 8 : 4, 'every allowed transform is drawn (the 4 that keep the shape when it is not square)');
    else assert.equal([...ks], [0]);
  });
}

test('drawAugment: shifts stay within the fraction; crops within the image', () => {
  for (let seed = 0; seed < 200; seed++) {
    const d = drawAugment(100, 60, { translate: 0.1, crop: [32, 32] }, rng(seed).uniform);
    assert.ok(Math.abs(d.dy) <= 3.2 && Math.abs(d.dx) <= 3.2, `shift ${d.dy}, ${d.dx}`);
    assert.ok(d.top >= 0 && d.top <= 68 && d.left >= 0 && d.left <= 28, `crop at ${d.top}, ${d.left}`);
  }
});

test('sampleSeed is a pure function of (seed, epoch, index), different for different arguments', () => {
  assert.is(sampleSeed(0, 3, 7), sampleSeed(0, 3, 7));
  const seeds = new Set<number>();
  for (let s = 0; s < 3; s++) for (let e = 0; e < 20; e++) for (let i = 0; i < 50; i++) seeds.add(sampleSeed(s, e, i));
  assert.is(seeds.size, 3 * 20 * 50);
});

test.run();
