// Augmentation: the 8 dihedral transforms by hand and as a group (bijections, distinct, inverses),
// shifts and crops with reflect fill, pad-to-stride round trips, and the property that matters for
// training: under every random augmentation the mask and the FOV stay aligned with the image.
// Then the continuous transforms (rotate, scale, elastic: one sampling map, image bilinear, masks
// nearest) and the intensity ones: alignment counted on an image whose mask is image > t, labels
// kept in their set, seeds, the fixed draw order, each intensity formula.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AUGMENT_DEFAULTS, AUGMENT_DRAWS, applyAugment, applyDraw, augment, chanceOptions, crop, cropTo, dihedral, drawAugment, inverseDihedral, padToMultiple, sampleSeed, samplingMap, translate, type AugmentDraw, type AugmentOptions } from '../src/train/augment.js';
import { applyIntensity } from '../src/train/intensity.js';
import { gaussianKernel, reflectCoord, sampleMap } from '../src/train/warp.js';
import { trainSettings } from '../src/train/loop.js';
import { BadOptionsError } from '../src/train/errors.js';
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

// ---------- rotation, scale, elastic: one sampling map ----------

test('reflectCoord is reflectIndex on integers, and mirrors real coordinates', () => {
  for (const n of [1, 2, 5]) for (let i = -12; i <= 12; i++) assert.is(reflectCoord(i, n), reflectIndex(i, n), `(${i}, ${n})`);
  const cases: [number, number, number][] = [[-0.5, 5, 0.5], [4.25, 5, 3.75], [1.5, 5, 1.5], [9.5, 5, 1.5]];
  for (const [v, n, want] of cases) assert.ok(Math.abs(reflectCoord(v, n) - want) < 1e-12, `reflectCoord(${v}, ${n})`);
});

test('gaussianKernel sums to 1, is symmetric and reaches 3 sigma', () => {
  for (const sigma of [0.5, 1, 2.7, 13]) {
    const k = gaussianKernel(sigma);
    assert.is(k.length, 2 * Math.ceil(3 * sigma) + 1);
    assert.ok(Math.abs(k.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    for (let i = 0; i < k.length; i++) assert.ok(Math.abs(k[i] - k[k.length - 1 - i]) < 1e-15);
  }
  assert.equal([...gaussianKernel(0)], [1]);
});

const identity = { angle: 0, scale: 1, intensity: {} };
test('the sampling map with no rotation, scale or elastic field is exactly the integer path (crop, dihedral, shift)', () => {
  const x = unique(11, 9, 2);
  const draws: [AugmentOptions, Omit<AugmentDraw, 'angle' | 'scale' | 'intensity'>][] = [
    [{}, { top: 0, left: 0, k: 0, dy: 0, dx: 0 }],
    [{ crop: [6, 6] }, { top: 2, left: 3, k: 5, dy: 1, dx: -2 }],
    [{ crop: [16, 16] }, { top: -3, left: -4, k: 3, dy: -5, dx: 7 }],
    [{ crop: [4, 8] }, { top: 7, left: 1, k: 6, dy: 2, dx: 3 }],
    [{}, { top: 0, left: 0, k: 1, dy: 4, dx: 0 }],
  ];
  for (const [opts, d] of draws) {
    const draw = { ...d, ...identity };
    const want = applyDraw(x, draw, opts);
    const map = samplingMap(x.height, x.width, draw, opts);
    assert.equal(sampleMap(x, map, 'bilinear'), want, `bilinear ${JSON.stringify(d)}`);
    assert.equal(sampleMap(x, map, 'nearest'), want, `nearest ${JSON.stringify(d)}`);
  }
});

/** A smooth image (values 0..1) whose mask is exactly image > T, and the steepest slope of the image per pixel. */
const T = 0.5;
const SLOPE = 0.3 / 5 + 0.2 / 7;
function smooth(h: number, w: number) {
  const image = hwc(h, w, 1, Float32Array.from({ length: h * w }, (_, i) => 0.5 + 0.3 * Math.sin(((i % w) + 3) / 5) + 0.2 * Math.cos(Math.floor(i / w) / 7)));
  return { image, mask: hwc(h, w, 1, image.data.map((v) => (v > T ? 1 : 0))) };
}

/** Pixels where mask != (image > T), and how many of them lie off the boundary (image further than `slope` from T). */
function mismatches(v: { image: HwcImage; mask: HwcImage }) {
  let all = 0;
  let far = 0;
  v.mask.data.forEach((m, i) => {
    if (m === (v.image.data[i] > T ? 1 : 0)) return;
    all++;
    if (Math.abs(v.image.data[i] - T) > SLOPE) far++;
  });
  return { all, far, fraction: all / v.mask.data.length };
}

const geometric: [string, AugmentOptions][] = [
  ['rotate up to 180 degrees', { rotate: { p: 1, degrees: 180 } }],
  ['scale 0.6..1.6', { scale: { p: 1, range: [0.6, 1.6] } }],
  ['elastic alpha 0..300, sigma 6..12', { elastic: { p: 1, alpha: [0, 300], sigma: [6, 12] } }],
  ['all of them with crop, dihedral and shift', { crop: [40, 40], dihedral: true, translate: 0.2, rotate: { p: 1, degrees: 45 }, scale: { p: 1, range: [0.8, 1.3] }, elastic: { p: 1, alpha: [100, 200], sigma: [9, 13] } }],
];
for (const [name, opts] of geometric) {
  test(`${name}: mask == (image > t) but on a one-pixel boundary; labels stay labels; a misaligned pair is caught`, () => {
    const v = smooth(64, 56);
    assert.is(mismatches(v).all, 0);
    const labels = hwc(64, 56, 1, v.image.data.map((x) => Math.min(2, Math.floor(x * 3))));
    for (let seed = 0; seed < 12; seed++) {
      const d = drawAugment(64, 56, opts, rng(seed).uniform);
      const out = applyAugment({ ...v, fov: labels }, d, opts);
      const m = mismatches(out);
      assert.is(m.far, 0, `seed ${seed}: ${m.far} mismatches off the boundary`);
      assert.ok(m.fraction < 0.05, `seed ${seed}: ${(100 * m.fraction).toFixed(1)} % mismatched`);
      assert.equal([...new Set(out.fov!.data)].sort(), [0, 1, 2], 'a 3-class label map keeps exactly its labels');
      assert.equal(applyAugment({ ...v, fov: labels }, drawAugment(64, 56, opts, rng(seed).uniform), opts), out, 'same seed, same sample');
      // the control: the mask of another seed's transform does not fit this image
      const other = applyAugment(v, drawAugment(64, 56, opts, rng(seed + 100).uniform), opts);
      assert.ok(mismatches({ image: out.image, mask: other.mask }).far > 0, `seed ${seed}: a misaligned mask passes`);
    }
  });
}

test('every draw takes the same uniforms in the same order, whatever is on: one transform never moves another', () => {
  const all: AugmentOptions = { crop: [16, 16], dihedral: true, translate: 0.1, ...chanceOptions(Object.fromEntries(Object.keys(AUGMENT_DEFAULTS).map((k) => [k, { p: 1 }]))).options };
  const none: AugmentOptions = { crop: [16, 16], dihedral: true, translate: 0.1 };
  const onlyRotate: AugmentOptions = { ...none, rotate: all.rotate };
  for (let seed = 0; seed < 20; seed++) {
    let used = 0;
    const counting = (r = rng(seed)) => () => (used++, r.uniform());
    const a = drawAugment(40, 30, all, counting());
    assert.is(used, AUGMENT_DRAWS);
    used = 0;
    const b = drawAugment(40, 30, none, counting());
    assert.is(used, AUGMENT_DRAWS);
    const c = drawAugment(40, 30, onlyRotate, rng(seed).uniform);
    assert.equal([a.top, a.left, a.k, a.dy, a.dx], [b.top, b.left, b.k, b.dy, b.dx]);
    assert.equal([b.angle, b.scale, b.elastic, b.intensity], [0, 1, undefined, {}], 'off: the identity');
    assert.is(c.angle, a.angle);
    assert.ok(a.angle !== 0 && a.scale !== 1 && a.elastic && Object.keys(a.intensity).length === 5, 'p 1: every transform fires');
  }
});

test('probabilities and ranges: a transform fires on about p of the samples, with values inside its range', () => {
  const opts: AugmentOptions = chanceOptions({ rotate: { p: 0.3, degrees: 20 }, scale: { p: 0.5, range: [0.9, 1.1] }, gamma: { p: 0.2, range: [0.8, 1.25] } }).options;
  let [rot, sc, ga] = [0, 0, 0];
  for (let seed = 0; seed < 2000; seed++) {
    const d = drawAugment(32, 32, opts, rng(sampleSeed(1, 0, seed)).uniform);
    if (d.angle !== 0) rot++;
    if (d.scale !== 1) sc++;
    if (d.intensity.gamma !== undefined) ga++;
    assert.ok(Math.abs(d.angle) <= (20 * Math.PI) / 180 && d.scale >= 0.9 && d.scale <= 1.1);
    if (d.intensity.gamma !== undefined) assert.ok(d.intensity.gamma >= 0.8 && d.intensity.gamma <= 1.25);
  }
  for (const [n, p] of [[rot, 0.3], [sc, 0.5], [ga, 0.2]]) assert.ok(Math.abs(n / 2000 - p) < 0.04, `${n} of 2000 at p ${p}`);
});

test('train.augment: true takes the defaults, a map fills in the rest, a number is a range of one, off unless named', () => {
  const { options, errors } = chanceOptions({ rotate: true, scale: { p: 0.5 }, noise: { std: 0.2 }, blur: false });
  assert.equal(errors, []);
  assert.equal(options, { rotate: { p: 0.2, degrees: 180 }, scale: { p: 0.5, range: [0.7, 1.4] }, noise: { p: 0.1, std: [0.2, 0.2] } });
  assert.equal(trainSettings({}).augment, { dihedral: true, translate: 0.1 }, 'nothing named: the paper\'s augmentation only');
  assert.throws(() => trainSettings({ augment: { gamma: { range: [1.5, 0.7] } } }), (e: Error) => e instanceof BadOptionsError && /train\.augment\.gamma\.range is \[1\.5, 0\.7\]/.test(e.message));
  assert.throws(() => trainSettings({ samples_per_image: 2, samples_per_epoch: 10 }), (e: Error) => e instanceof BadOptionsError && /give one/.test(e.message));
  assert.throws(() => trainSettings({ augment: { rotate: { p: 1.5 } } }), (e: Error) => e instanceof BadOptionsError && /train\.augment\.rotate\.p is 1\.5/.test(e.message));
});

// ---------- intensity: image only ----------

const noisy = (h: number, w: number, c: number, seed = 1) => {
  const r = rng(seed);
  return hwc(h, w, c, Float32Array.from({ length: h * w * c }, () => r.normal()));
};
const stats = (a: ArrayLike<number>) => {
  const n = a.length;
  const mean = Array.from(a).reduce((s, v) => s + v, 0) / n;
  return { mean, std: Math.sqrt(Array.from(a).reduce((s, v) => s + (v - mean) ** 2, 0) / n), min: Math.min(...Array.from(a)), max: Math.max(...Array.from(a)) };
};

test('intensity formulas: brightness scales, contrast keeps the mean and range, gamma keeps mean and std and order, noise has its std, blur smooths and keeps a constant', () => {
  const x = noisy(24, 20, 1);
  const s = stats(x.data);
  const brighter = applyIntensity(x, { brightness: 1.2 });
  assert.ok(brighter.data.every((v, i) => v === Math.fround(x.data[i] * 1.2)));
  const flat = stats(applyIntensity(x, { contrast: 0.5 }).data);
  assert.ok(Math.abs(flat.mean - s.mean) < 1e-5 && Math.abs(flat.std - 0.5 * s.std) < 1e-4, 'contrast 0.5 halves the std about the mean');
  const steep = stats(applyIntensity(x, { contrast: 2 }).data);
  assert.ok(steep.min >= s.min && steep.max <= s.max, 'contrast > 1 is clipped to the range it had');
  const g = applyIntensity(x, { gamma: 1.4 });
  const gs = stats(g.data);
  assert.ok(Math.abs(gs.mean - s.mean) < 1e-4 && Math.abs(gs.std - s.std) < 1e-4, 'gamma keeps mean and std');
  for (let i = 1; i < x.data.length; i++) assert.is(Math.sign(g.data[i] - g.data[0]), Math.sign(x.data[i] - x.data[0]), 'gamma is monotone');
  const zero = hwc(64, 64, 2);
  const n = applyIntensity(zero, { noise: { std: 0.25, seed: 9 } });
  assert.ok(Math.abs(stats(n.data).std - 0.25) < 0.01, `noise std ${stats(n.data).std}`);
  assert.equal(applyIntensity(zero, { noise: { std: 0.25, seed: 9 } }), n, 'same seed, same noise');
  assert.ok(stats(applyIntensity(x, { blur: 1 }).data).std < 0.5 * s.std, 'blur removes most of white noise');
  const constant = hwc(9, 7, 3, new Float32Array(9 * 7 * 3).fill(0.7));
  assert.ok(applyIntensity(constant, { blur: 2 }).data.every((v) => Math.abs(v - 0.7) < 1e-6));
  assert.is(applyIntensity(x, {}), x, 'nothing drawn: the image itself');
});

test('intensity augmentation changes the image only: the mask is the one the geometry gives', () => {
  const v = smooth(32, 32);
  const opts: AugmentOptions = { crop: [24, 24], dihedral: true, ...chanceOptions(Object.fromEntries(['noise', 'blur', 'brightness', 'contrast', 'gamma'].map((k) => [k, { p: 1 }]))).options };
  for (let seed = 0; seed < 10; seed++) {
    const d = drawAugment(32, 32, opts, rng(seed).uniform);
    const out = applyAugment(v, d, opts);
    assert.equal(out.mask, applyDraw(v.mask, d, opts));
    assert.not.equal(out.image, applyDraw(v.image, d, opts));
  }
});

test.run();
