// Test-time augmentation (tta.ts): the transforms of each mode, and the mean over them against
// hand-computed maps from fake predictors: one that is not equivariant (it answers x^2, x the
// column in the frame it is shown, so a transposed copy answers with the row), whose means are
// worked out below, and one that is (it answers the image itself), which every mode must return
// unchanged: each copy is mapped back exactly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dihedral } from '../src/train/augment.js';
import { hwc, type HwcImage } from '../src/train/image.js';
import type { Predictor } from '../src/train/infer.js';
import { ttaTransforms, unTransformPlanes, withTta, TTA_MODES } from '../src/train/tta.js';

/** a Predictor answering `f(image)` (class-major planes), recording the sizes it was shown */
function fake(classes: number, f: (img: HwcImage) => number[]): Predictor & { seen: string[]; disposed: number } {
  const p = {
    seen: [] as string[],
    disposed: 0,
    engine: 'tfjs' as const,
    classes,
    stride: [1, 1] as [number, number],
    predict: async (img: HwcImage) => {
      p.seen.push(`${img.height}x${img.width}`);
      return Float32Array.from(f(img));
    },
    dispose: () => void p.disposed++,
  };
  return p;
}

/** x^2 at every pixel, x the column of the frame shown */
const xSquared = (img: HwcImage) => Array.from({ length: img.height * img.width }, (_, i) => (i % img.width) ** 2);

// 2 rows x 3 columns, values 0..5 in raster order
const IMG = hwc(2, 3, 1, Float32Array.from([0, 1, 2, 3, 4, 5]));

test('the flips are dihedral 0, 4, 6, 2: identity, left-right, top-bottom, both', () => {
  assert.equal(ttaTransforms('none'), [0]);
  assert.equal(ttaTransforms('flips'), [0, 4, 6, 2]);
  assert.equal(ttaTransforms('dihedral'), [0, 1, 2, 3, 4, 5, 6, 7]);
  const CASES: [number, number[]][] = [
    [0, [0, 1, 2, 3, 4, 5]],
    [4, [2, 1, 0, 5, 4, 3]],
    [6, [3, 4, 5, 0, 1, 2]],
    [2, [5, 4, 3, 2, 1, 0]],
  ];
  for (const [k, want] of CASES) assert.equal([...dihedral(IMG, k).data], want, `k = ${k}`);
});

test('unTransformPlanes undoes each of the 8 transforms, per class plane', () => {
  // two planes: the image and 10 + the image
  for (let k = 0; k < 8; k++) {
    const t = dihedral(IMG, k);
    const planes = Float32Array.from([...t.data, ...t.data.map((v) => 10 + v)]);
    assert.equal([...unTransformPlanes(planes, 2, k, 2, 3)], [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15], `k = ${k}`);
  }
  assert.throws(() => unTransformPlanes(new Float32Array(5), 1, 1, 2, 3), /5 values for 1 planes of 2x3/);
});

test('a predictor that is not equivariant (x^2): the hand-computed mean of each mode', async () => {
  // none: x^2 = 0 1 4 per row. flips: the left-right copies answer (2 - x)^2 = 4 1 0 once mapped
  // back, the top-bottom ones x^2 again: mean (0 + 4 + 0 + 4) / 4 = 2 at x = 0, 1 at x = 1.
  // dihedral: the 4 flips as above sum to 8 4 8; the 4 transposed copies are 3 x 2 and answer the
  // square of the original row or of its mirror (1 - y): 0 + 1 each pair, 2 in all at every pixel;
  // (8 + 2) / 8 = 1.25, (4 + 2) / 8 = 0.75.
  const CASES: [string, number[], string[]][] = [
    ['none', [0, 1, 4, 0, 1, 4], ['2x3']],
    ['flips', [2, 1, 2, 2, 1, 2], ['2x3', '2x3', '2x3', '2x3']],
    ['dihedral', [1.25, 0.75, 1.25, 1.25, 0.75, 1.25], ['2x3', '3x2', '2x3', '3x2', '2x3', '3x2', '2x3', '3x2']],
  ];
  for (const [mode, want, seen] of CASES) {
    const p = fake(1, xSquared);
    const out = await withTta(p, mode as (typeof TTA_MODES)[number]).predict(IMG);
    assert.equal([...out], want, mode);
    assert.equal(p.seen, seen, `${mode}: the sizes the network was shown`);
  }
});

test('an equivariant predictor (2 classes: the image, 1 - the image) comes back unchanged in every mode', async () => {
  const img = hwc(3, 5, 1, Float32Array.from({ length: 15 }, (_, i) => ((i * 7) % 15) / 16));
  const identity = (x: HwcImage) => [...x.data, ...x.data.map((v) => 1 - v)];
  for (const mode of TTA_MODES) {
    const out = await withTta(fake(2, identity), mode).predict(img);
    const want = identity(img);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(out[i] - want[i]) < 1e-6, `${mode}: value ${i} ${out[i]} != ${want[i]}`);
  }
});

test('none is the predictor itself; the wrapper keeps its fields and disposes it', () => {
  const p = fake(3, xSquared);
  assert.is(withTta(p, 'none'), p);
  const t = withTta(p, 'dihedral');
  assert.equal([t.classes, t.engine, t.stride], [3, 'tfjs', [1, 1]]);
  t.dispose();
  assert.is(p.disposed, 1);
});

test.run();
