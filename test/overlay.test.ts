// Prediction PNGs (src/train/overlay.ts): sizes, the probability and mask encodings, and outline
// pixels exactly where the mask boundary is, for the prediction, the truth and both.
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hwc, type HwcImage } from '../src/train/image.js';
import { BOTH_COLOR, outline, PREDICTION_COLOR, TRUTH_COLOR, writePredictionPngs } from '../src/train/overlay.js';

/** The PNG's own channel count (sharp's raw output expands gray to RGB) and its pixels in that many channels. */
const decode = async (png: Buffer) => {
  const { channels } = await sharp(png).metadata();
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const pixels = new Uint8Array(data).filter((_, i) => i % info.channels < channels);
  return { data: pixels, width: info.width, height: info.height, channels };
};

/** 1 inside the rectangle [top, bottom) x [left, right) */
const rect = (h: number, w: number, top: number, left: number, bottom: number, right: number) =>
  Float32Array.from({ length: h * w }, (_, i) => {
    const [y, x] = [Math.floor(i / w), i % w];
    return y >= top && y < bottom && x >= left && x < right ? 1 : 0;
  });

/** The rectangle's perimeter: the pixels an outline must mark, computed independently. */
const perimeter = (h: number, w: number, top: number, left: number, bottom: number, right: number) =>
  Uint8Array.from({ length: h * w }, (_, i) => {
    const [y, x] = [Math.floor(i / w), i % w];
    const inside = y >= top && y < bottom && x >= left && x < right;
    // an edge of the image is not a boundary
    const edge = (y === top && top > 0) || (y === bottom - 1 && bottom < h) || (x === left && left > 0) || (x === right - 1 && right < w);
    return inside && edge ? 1 : 0;
  });

const gradient = (h: number, w: number, c: number): HwcImage => hwc(h, w, c, Float32Array.from({ length: h * w * c }, (_, i) => ((i * 7) % 251) / 250));

const outlineCases: [string, number, number, [number, number, number, number]][] = [
  ['interior rectangle', 9, 11, [2, 3, 7, 9]],
  ['touching the top-left edge', 9, 11, [0, 0, 4, 5]],
  ['a single pixel', 5, 5, [2, 2, 3, 3]],
  ['one row', 6, 8, [3, 1, 4, 7]],
  ['the whole image (no outline)', 4, 6, [0, 0, 4, 6]],
  ['empty', 4, 6, [2, 2, 2, 2]],
];
for (const [name, h, w, r] of outlineCases)
  test(`outline: ${name}`, () => {
    assert.equal(outline(rect(h, w, ...r), h, w), perimeter(h, w, ...r));
  });

for (const channels of [1, 3])
  test(`${channels}-channel image: sizes, prob = round(255 p), mask only 0/255 at the threshold`, async () => {
    const [h, w] = [23, 31];
    const image = gradient(h, w, channels);
    const probs = Float32Array.from({ length: h * w }, (_, i) => (i % 97) / 96);
    const pngs = await writePredictionPngs(image, probs, 0.4);
    const [prob, mask, overlay] = await Promise.all([decode(pngs.prob), decode(pngs.mask), decode(pngs.overlay)]);
    for (const d of [prob, mask, overlay]) assert.equal([d.width, d.height], [w, h]);
    assert.is(prob.channels, 1);
    assert.is(mask.channels, 1);
    assert.is(overlay.channels, 3);
    for (let i = 0; i < h * w; i++) {
      assert.is(prob.data[i], Math.round(probs[i] * 255));
      assert.is(mask.data[i], probs[i] >= 0.4 ? 255 : 0);
    }
  });

test('overlay: prediction red, truth green, both yellow on their boundaries; the image elsewhere', async () => {
  const [h, w] = [20, 24];
  const image = gradient(h, w, 3);
  const pred: [number, number, number, number] = [3, 4, 12, 15];
  const truth: [number, number, number, number] = [3, 8, 16, 20];
  // probabilities on either side of the threshold, not just 0 and 1
  const probs = Float32Array.from(rect(h, w, ...pred), (v, i) => (v ? 0.5 + (i % 5) / 10 : 0.49 - (i % 7) / 20));
  const pngs = await writePredictionPngs(image, probs, 0.5, { truth: hwc(h, w, 1, rect(h, w, ...truth)) });
  const o = await decode(pngs.overlay);
  const p = perimeter(h, w, ...pred);
  const t = perimeter(h, w, ...truth);
  let counts = { pred: 0, truth: 0, both: 0 };
  for (let i = 0; i < h * w; i++) {
    const px = [...o.data.subarray(3 * i, 3 * i + 3)];
    const want = p[i] && t[i] ? BOTH_COLOR : p[i] ? PREDICTION_COLOR : t[i] ? TRUTH_COLOR : [0, 1, 2].map((k) => Math.round(image.data[3 * i + k] * 255));
    assert.equal(px, [...want], `pixel ${i % w},${Math.floor(i / w)}`);
    if (p[i] && t[i]) counts.both++;
    else if (p[i]) counts.pred++;
    else if (t[i]) counts.truth++;
  }
  assert.ok(counts.pred > 0 && counts.truth > 0 && counts.both > 0, JSON.stringify(counts));
});

test('a gray image is repeated into RGB; sizes that do not match are refused', async () => {
  const image = gradient(5, 6, 1);
  const o = await decode((await writePredictionPngs(image, new Float32Array(30), 0.5)).overlay);
  for (let i = 0; i < 30; i++) for (let k = 0; k < 3; k++) assert.is(o.data[3 * i + k], Math.round(image.data[i] * 255));
  await writePredictionPngs(image, new Float32Array(29), 0.5).then(
    () => assert.unreachable('accepted 29 probabilities'),
    (e: Error) => assert.match(e.message, /29 probabilities for a 6x5 image/),
  );
  await writePredictionPngs(image, new Float32Array(30), 0.5, { truth: new Float32Array(12) }).then(
    () => assert.unreachable('accepted a 12-pixel truth'),
    (e: Error) => assert.match(e.message, /truth mask has 12 pixels/),
  );
});

test.run();
