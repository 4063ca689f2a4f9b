// Outputs of a softmax (multi-class) run: predict's label map, colour overlay and per-class
// probability maps (overlay.ts writeClassPredictionPngs, trained.ts predictImages, predict-names.ts),
// and evaluate's per-class metrics (--json and the text table). The run is built by hand: a 1x1
// convolution with weights chosen so that the class of a pixel is known from its gray value
// (x < 0.3: 0, 0.3 < x < 0.7: 1, x > 0.7: 2), so every expected value is computed here.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { WeightStore } from '../src/ir/weights.js';
import { BadOptionsError } from '../src/train/errors.js';
import { hwc } from '../src/train/image.js';
import { CLASS_FILL_ALPHA, writeClassPredictionPngs } from '../src/train/overlay.js';
import { classPredictionKinds, planPredictionNames } from '../src/train/predict-names.js';
import { evaluateRun, openRun, predictImages } from '../src/train/trained.js';
import { grayPng, writeHandMadeRun } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'alcli-classes-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
const at = (...p: string[]) => join(scratch, ...p);
const alcli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], { cwd: scratch, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

/** A PNG's pixels, and its channels as stored (sharp's raw output of a gray PNG repeats it in RGB). */
const rawOf = async (file: string | Buffer) => {
  const { channels } = await sharp(file).metadata();
  const { data, info } = await (channels === 1 ? sharp(file).extractChannel(0) : sharp(file)).raw().toBuffer({ resolveWithObject: true });
  return { data, channels, width: info.width, height: info.height };
};

// ---- the PNGs of one prediction, on a 3x3 image

test('writeClassPredictionPngs: label values, probability bytes, overlay colours (fill, outline, background)', async () => {
  // labels  0 1 1 / 0 1 1 / 2 2 2 (argmax of these probabilities); image gray 100 everywhere
  const labels = [0, 1, 1, 0, 1, 1, 2, 2, 2];
  const probs = new Float32Array(27);
  labels.forEach((l, i) => {
    for (let k = 0; k < 3; k++) probs[k * 9 + i] = k === l ? 0.8 : 0.1;
  });
  probs[0 * 9 + 0] = 0.5; // pixel 0: 0.5 0.25 0.25, still class 0
  probs[1 * 9 + 0] = 0.25;
  probs[2 * 9 + 0] = 0.25;
  const image = hwc(3, 3, 1, new Float32Array(9).fill(100 / 255));
  const colors = [[0, 0, 0], [200, 0, 0], [0, 0, 250]];
  const out = await writeClassPredictionPngs(image, probs, colors);
  const label = await rawOf(out.label);
  assert.is(label.channels, 1);
  assert.equal([...label.data], labels);
  assert.equal([...out.labels], labels);
  const p = await Promise.all(out.probs.map(rawOf));
  assert.equal([...p[0].data], [128, 26, 26, 204, 26, 26, 26, 26, 26]);
  assert.equal([...p[2].data], [64, 26, 26, 26, 26, 26, 204, 204, 204]);
  const ov = await rawOf(out.overlay);
  const px = (i: number) => [...ov.data.subarray(3 * i, 3 * i + 3)];
  const fill = (c: number[]) => c.map((v) => Math.round((1 - CLASS_FILL_ALPHA) * 100 + CLASS_FILL_ALPHA * v));
  // class 1: pixels 1 and 4 touch class 0, 4 and 5 touch class 2: outlined; pixel 2 is inside
  // (its missing neighbours are beyond the image); class 2: every pixel touches class 0 or 1
  const want = [[100, 100, 100], [200, 0, 0], fill(colors[1]), [100, 100, 100], [200, 0, 0], [200, 0, 0], [0, 0, 250], [0, 0, 250], [0, 0, 250]];
  for (let i = 0; i < 9; i++) assert.equal(px(i), want[i], `overlay pixel ${i}`);
});

// ---- file names

test('class probability files: named after the class, made file-safe, class_k when empty or clashing', () => {
  assert.equal(classPredictionKinds(['background', 'cell', 'vessel']), ['label', 'overlay', 'prob.background', 'prob.cell', 'prob.vessel']);
  assert.equal(classPredictionKinds(['background', 'left lung', 'heart/apex']), ['label', 'overlay', 'prob.background', 'prob.left_lung', 'prob.heart_apex']);
  assert.equal(classPredictionKinds(['bg', 'a b', 'a/b', '??', 'Cell', 'cell']), ['label', 'overlay', 'prob.bg', 'prob.class_1', 'prob.class_2', 'prob.class_3', 'prob.class_4', 'prob.class_5']);
});

test('names of softmax predictions: a clash is reported with the label file, and files shared across names too', () => {
  const kinds = classPredictionKinds(['background', 'overlay']);
  const plan = (paths: string[]) => planPredictionNames(paths.map((p) => ({ path: at('n', p), pages: 1 })), at('P'), kinds);
  assert.equal(plan(['a/1.png', 'b/2.png']).map((p) => p.name), ['1', '2']);
  assert.throws(() => plan(['a/21.png', 'b/21.png', 'a_21.png']), (e: Error) => e instanceof BadOptionsError && /would all be written as .*P\/a_21\.label\.png \(and \.overlay\.png, \.prob\.background\.png, \.prob\.overlay\.png\)/.test(e.message));
  // x's class 'overlay' writes x.prob.overlay.png, as the input x.prob's overlay does
  assert.throws(() => plan(['x.png', 'x.prob.png']), (e: Error) => e instanceof BadOptionsError && /x\.png, .*x\.prob\.png would all write .*P\/x\.prob\.overlay\.png/.test(e.message));
});

// ---- a hand-built run

const SPEC = `alcli: 1
name: three
input: {channels: 1, size: [8, 8]}
output: {classes: 3, activation: softmax}
graph:
  head: {op: conv, in: input, out: 3, kernel: 1, bias: true}
`;
// logits 6 - 20x, 0, 20x - 14: class 0 below x = 0.3, class 2 above 0.7, class 1 between
const W = [-20, 0, 20];
const B = [6, 0, -14];
const TABLE = { names: ['background', 'cell', 'big vessel'], colors: [[0, 0, 0], [255, 0, 0], [0, 0, 255]] as [number, number, number][] };

function writeRun(dir: string, data: string): void {
  const weights: WeightStore = new Map([
    ['head:kernel', { shape: [1, 1, 1, 3], data: Float32Array.from(W) }],
    ['head:bias', { shape: [3], data: Float32Array.from(B) }],
  ]);
  writeHandMadeRun(dir, { spec: SPEC, specPath: at('three.yaml'), data, counts: { train: 1, val: 0, test: 1 }, channels: 1, weights, classes: TABLE });
}

// 12x5 image: columns 0-3 gray 26, 4-7 gray 128, 8-11 gray 230 -> classes 0, 1, 2
const [IW, IH] = [12, 5];
const COLUMN_BYTES = [26, 26, 26, 26, 128, 128, 128, 128, 230, 230, 230, 230];
const classOfColumn = (x: number) => Math.floor(x / 4);
const imageBytes = Uint8Array.from({ length: IW * IH }, (_, i) => COLUMN_BYTES[i % IW]);
// the truth marks class 1 only (values 0/1: a binary mask and a label map alike), so class 2 is
// predicted on columns 8-11 where the truth says background
const maskBytes = Uint8Array.from({ length: IW * IH }, (_, i) => (classOfColumn(i % IW) === 1 ? 1 : 0));

const DATA = at('data');
for (const d of ['images', 'masks']) mkdirSync(join(DATA, d), { recursive: true });
writeFileSync(join(DATA, 'images', 'a.png'), await grayPng(imageBytes, IW, IH));
writeFileSync(join(DATA, 'masks', 'a.png'), await grayPng(maskBytes, IW, IH));
writeFileSync(join(DATA, 'images', 'b.png'), await grayPng(imageBytes, IW, IH));
writeFileSync(join(DATA, 'masks', 'b.png'), await grayPng(maskBytes, IW, IH));
writeFileSync(join(DATA, 'split.json'), JSON.stringify({ train: ['a'], test: ['b'] }));
writeRun(at('run'), DATA);
mkdirSync(at('in'));
writeFileSync(at('in', 'stripes.png'), await grayPng(imageBytes, IW, IH));

/** softmax of the logits at gray byte v, in float64 */
const softmaxAt = (v: number) => {
  const z = W.map((w, k) => w * (v / 255) + B[k]);
  const e = z.map((x) => Math.exp(x - Math.max(...z)));
  return e.map((x) => x / e.reduce((a, b) => a + b, 0));
};

test('predict on a softmax run: label map, one probability map per class (named), colour overlay, fractions', async () => {
  const r = await predictImages(await openRun(at('run')), { images: [at('in', 'stripes.png')], out: at('P1') });
  assert.is(r.threshold, null);
  assert.equal(readdirSync(at('P1')).sort(), ['stripes.label.png', 'stripes.overlay.png', 'stripes.prob.background.png', 'stripes.prob.big_vessel.png', 'stripes.prob.cell.png']);
  const [img] = r.images;
  assert.equal([img.prob, img.mask], [undefined, undefined]);
  assert.equal(img.classes!.map((c) => [c.index, c.name, c.prob.slice(scratch.length), c.fraction]), [
    [0, 'background', '/P1/stripes.prob.background.png', 1 / 3],
    [1, 'cell', '/P1/stripes.prob.cell.png', 1 / 3],
    [2, 'big vessel', '/P1/stripes.prob.big_vessel.png', 1 / 3],
  ]);
  assert.ok(Math.abs(img.foreground_fraction - 2 / 3) < 1e-12);
  const label = await rawOf(img.label!);
  assert.equal([label.channels, label.width, label.height], [1, IW, IH]);
  assert.equal([...label.data], Array.from({ length: IW * IH }, (_, i) => classOfColumn(i % IW)));
  for (const c of img.classes!) {
    const p = await rawOf(c.prob);
    for (let i = 0; i < IW * IH; i++) {
      const want = Math.round(softmaxAt(imageBytes[i])[c.index] * 255);
      if (Math.abs(p.data[i] - want) > 1) assert.unreachable(`${c.name} at pixel ${i}: ${p.data[i]}, expected ${want}`);
    }
  }
  const ov = await rawOf(img.overlay);
  assert.is(ov.channels, 3);
  for (let y = 0; y < IH; y++)
    for (let x = 0; x < IW; x++) {
      const k = classOfColumn(x);
      const g = COLUMN_BYTES[x];
      // outlines: class 1 at columns 4 and 7, class 2 at column 8 (column 11 is the image edge)
      const edge = x === 4 || x === 7 || x === 8;
      const want = k === 0 ? [g, g, g] : edge ? TABLE.colors[k] : TABLE.colors[k].map((c) => Math.round((1 - CLASS_FILL_ALPHA) * g + CLASS_FILL_ALPHA * c));
      const i = 3 * (y * IW + x);
      assert.equal([...ov.data.subarray(i, i + 3)], want, `overlay (${x}, ${y})`);
    }
});

test('a threshold for a softmax run is refused (the argmax decides)', async () => {
  for (const f of [() => predictImages(at('run'), { images: [at('in', 'stripes.png')], out: at('P2'), threshold: 0.4 }), () => evaluateRun(at('run'), { threshold: 0.4 })]) {
    try {
      await f();
      assert.unreachable('not refused');
    } catch (e) {
      assert.instance(e, BadOptionsError);
      assert.match((e as Error).message, /--threshold 0\.4: this run's network has 3 softmax classes, .*argmax/);
    }
  }
});

// class 1 (columns 4-7) is predicted exactly: IoU, Dice, sensitivity, specificity, AUC 1.
// class 2 is never true and predicted on columns 8-11: tp 0, fp 20, tn 40: IoU 0, Dice 0,
// specificity 2/3, sensitivity and AUC undefined. Pixel accuracy 40/60.
const WANT_CLASSES = [
  { iou: 1, dice: 1, sensitivity: 1, specificity: 1, auc: 1 },
  { iou: 0, dice: 0, sensitivity: NaN, specificity: 2 / 3, auc: NaN },
];
const WANT_MEAN = { accuracy: 2 / 3, iou: 1 / 2, dice: 1 / 2, sensitivity: 1, specificity: 5 / 6, auc: 1 };

const near = (a: number | null, b: number, what: string) => {
  if (Number.isNaN(b) ? a !== null && !Number.isNaN(a) : !(a !== null && Math.abs(a - b) < 1e-6)) assert.unreachable(`${what}: ${a}, expected ${b}`);
};

test('evaluate on a softmax run: per class (names from run.json) and their means', async () => {
  const r = await evaluateRun(at('run'), { split: 'test' });
  assert.is(r.threshold, null);
  assert.equal(r.classes!.map((c) => [c.index, c.name]), [[1, 'cell'], [2, 'big vessel']]);
  r.classes!.forEach((c, j) => {
    for (const [m, v] of Object.entries(WANT_CLASSES[j])) near(c.summary[m as keyof typeof c.summary].mean, v, `${c.name} ${m}`);
  });
  for (const [m, v] of Object.entries(WANT_MEAN)) near(r.summary[m as keyof typeof r.summary].mean, v, `mean ${m}`);
  assert.equal(r.perImage.map((p) => [p.id, p.classes!.map((c) => c.name)]), [['b', ['cell', 'big vessel']]]);
  near(r.perImage[0].classes![1].metrics.specificity, 2 / 3, 'per image');
});

test('alcli evaluate --json and the text table on a softmax run', () => {
  const j = alcli(['evaluate', 'run', '--json']);
  assert.is(j.status, 0, j.stderr);
  const out = JSON.parse(j.stdout);
  assert.equal(Object.keys(out.summary).sort(), ['accuracy', 'auc', 'dice', 'iou', 'sensitivity', 'specificity']);
  assert.equal(out.classes.map((c: { name: string; summary: object }) => [c.name, Object.keys(c.summary).sort()]), [
    ['cell', ['auc', 'dice', 'iou', 'sensitivity', 'specificity']],
    ['big vessel', ['auc', 'dice', 'iou', 'sensitivity', 'specificity']],
  ]);
  near(out.classes[1].summary.specificity.mean, 2 / 3, 'json specificity');
  assert.is(out.classes[1].summary.sensitivity.n, 0);
  const t = alcli(['evaluate', 'run']);
  assert.is(t.status, 0, t.stderr);
  assert.match(t.stdout, /1 images, argmax over 3 classes, /);
  assert.match(t.stdout, /\n {2}class\s+iou\s+dice\s+sensitivity\s+specificity\s+auc\n/);
  assert.match(t.stdout, /\n {2}1 cell\s+1\.0000 ± 0\.0000\s+1\.0000 ± 0\.0000\s+1\.0000 ± 0\.0000\s+1\.0000 ± 0\.0000\s+1\.0000 ± 0\.0000\n/);
  assert.match(t.stdout, /\n {2}2 big vessel\s+0\.0000 ± 0\.0000\s+0\.0000 ± 0\.0000\s+NaN ± NaN\s+0\.6667 ± 0\.0000\s+NaN ± NaN\n/);
  assert.match(t.stdout, /\n {2}mean of classes 1-2\s+0\.5000 ± 0\.0000\s+0\.5000 ± 0\.0000\s+1\.0000 ± 0\.0000\s+0\.8333 ± 0\.0000\s+1\.0000 ± 0\.0000\n/);
  assert.match(t.stdout, /\n {2}pixel accuracy 0\.6667 ± 0\.0000\n$/);
  const bad = alcli(['evaluate', 'run', '--threshold', '0.3']);
  assert.is(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /argmax/);
});

test.run();
