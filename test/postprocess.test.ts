// Post-processing of masks and label maps (postprocess.ts): each case a hand-drawn map, the options,
// and the map they must give. '.' is background 0, a digit its class, 'x' a NaN pixel (-1). Then a
// hand-built binary run (a 1x1 convolution: a pixel is foreground when its gray is bright) through
// `evaluateRun`, `predictImages` and `alcli evaluate` with --tta flips and the post-processing flags,
// every metric computed here by hand.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { WeightStore } from '../src/ir/weights.js';
import { evaluateRun, openRun, predictImages } from '../src/train/trained.js';
import { grayPng, writeHandMadeRun } from './helpers.js';
import { BadOptionsError } from '../src/train/errors.js';
import { checkPostProcess, components, describePostProcess, hasPostProcess, postProcessLabels, type PostProcessOptions } from '../src/train/postprocess.js';

const parse = (rows: string[]) => ({ h: rows.length, w: rows[0].length, labels: Int32Array.from(rows.join(''), (ch) => (ch === '.' ? 0 : ch === 'x' ? -1 : Number(ch))) });
const draw = (labels: ArrayLike<number>, w: number) => Array.from({ length: labels.length / w }, (_, y) => Array.from({ length: w }, (_, x) => { const v = labels[y * w + x]; return v === 0 ? '.' : v < 0 ? 'x' : String(v); }).join(''));

/** [case, classes, options, input, expected] */
const CASES: [string, number, PostProcessOptions, string[], string[]][] = [
  ['keep-largest: the 3-pixel blob stays, the 2-pixel one goes', 2, { keepLargest: true },
    ['11..1', '1...1', '.....'],
    ['11...', '1....', '.....']],
  ['keep-largest, a tie: the blob whose first pixel comes first in raster order stays', 2, { keepLargest: true },
    ['...11', '11...', '.....'],
    ['...11', '.....', '.....']],
  ['keep-largest, a tie on one row: the leftmost first pixel', 2, { keepLargest: true },
    ['.1..1', '.1..1'],
    ['.1...', '.1...']],
  ['8-connectivity: a diagonal chain of 3 is one component and beats a straight pair', 2, { keepLargest: true },
    ['1....', '.1..1', '..1.1'],
    ['1....', '.1...', '..1..']],
  ['min-size 3 keeps the 3-pixel component (N itself is kept), removes the 2-pixel one', 2, { minSize: 3 },
    ['11..1', '1...1'],
    ['11...', '1....']],
  ['min-size 4 removes both', 2, { minSize: 4 },
    ['11..1', '1...1'],
    ['.....', '.....']],
  ['min-size 2 keeps both, and a diagonal pair counts as 2', 2, { minSize: 2 },
    ['11..1', '1..1.'],
    ['11..1', '1..1.']],
  ['fill-holes: an enclosed background pixel', 2, { fillHoles: true },
    ['.....', '.111.', '.1.1.', '.111.', '.....'],
    ['.....', '.111.', '.111.', '.111.', '.....']],
  ['fill-holes: a hole open only at a corner is enclosed (background is 4-connected)', 2, { fillHoles: true },
    ['.....', '.111.', '.1.1.', '.11..', '.....'],
    ['.....', '.111.', '.111.', '.11..', '.....']],
  ['fill-holes: a hole touching the border is not filled', 2, { fillHoles: true },
    ['1.1', '1.1', '111'],
    ['1.1', '1.1', '111']],
  ['fill-holes: a 2-pixel hole, and an island in a hole (its background touches only class 1)', 2, { fillHoles: true },
    ['11111.', '1..1.1', '1111.1', '......', '111111', '1.1..1', '111111'],
    ['11111.', '1111.1', '1111.1', '......', '111111', '111111', '111111']],
  ['min-size then fill-holes: the speck in the hole goes, the hole is filled', 2, { minSize: 2, fillHoles: true },
    ['11111', '1...1', '1.1.1', '1...1', '11111'],
    ['11111', '11111', '11111', '11111', '11111']],
  ['keep-largest per class: each class keeps its own largest (class 2: 3 pixels, one by a corner), removed pixels become background', 3, { keepLargest: true },
    ['11.2.', '1..2.', '..1.2', '22...'],
    ['11.2.', '1..2.', '....2', '.....']],
  ['fill-holes, multi-class: a hole of class 2 takes 2; background between classes 1 and 2 stays', 3, { fillHoles: true },
    ['.222.', '.2.2.', '.222.', '.....', '.111.', '.1.2.', '.111.'],
    ['.222.', '.222.', '.222.', '.....', '.111.', '.1.2.', '.111.']],
  ['fill-holes: class 2 inside class 1 with background around it stays (two classes border it)', 3, { fillHoles: true },
    ['11111', '1...1', '1.2.1', '1...1', '11111'],
    ['11111', '1...1', '1.2.1', '1...1', '11111']],
  ['a NaN pixel (-1) is left alone and blocks a fill', 2, { fillHoles: true, keepLargest: true },
    ['111.x', '1.1..', '1x1..', '111..'],
    ['111.x', '1.1..', '1x1..', '111..']],
  ['nothing asked: the map as it is', 2, {},
    ['1.1', '.1.'],
    ['1.1', '.1.']],
];

test('postProcessLabels: hand-drawn cases', () => {
  for (const [name, classes, opts, input, want] of CASES) {
    const { h, w, labels } = parse(input);
    const out = postProcessLabels(labels, h, w, classes, opts);
    assert.equal(draw(out, w), want, name);
    assert.equal(draw(labels, w), input, `${name}: the input is not changed`);
  }
});

test('postProcessLabels keeps the array type (a Uint8Array mask stays one)', () => {
  const out = postProcessLabels(Uint8Array.from([1, 0, 1]), 1, 3, 2, { keepLargest: true });
  assert.instance(out, Uint8Array);
  assert.equal([...out], [1, 0, 0]);
});

test('components: 4- and 8-connectivity, numbered in raster order, border contact', () => {
  const { h, w, labels } = parse(['..1', '.1.', '1..', '...']);
  const c8 = components((i) => labels[i] === 1, h, w, 8);
  assert.equal([c8.sizes, c8.touchesBorder], [[0, 3], [false, true]]);
  const c4 = components((i) => labels[i] === 1, h, w, 4);
  assert.equal([...c4.labels], [0, 0, 1, 0, 2, 0, 3, 0, 0, 0, 0, 0]);
  assert.equal([c4.sizes, c4.touchesBorder], [[0, 1, 1, 1], [false, true, false, true]]);
});

test('options: --min-size a whole number >= 0; the description lists the steps in order', () => {
  for (const bad of [-1, 2.5, NaN]) assert.throws(() => checkPostProcess({ minSize: bad }), (e: Error) => e instanceof BadOptionsError && /--min-size .*whole number/.test(e.message));
  assert.equal([hasPostProcess({}), hasPostProcess({ minSize: 1 }), hasPostProcess({ minSize: 2 }), hasPostProcess({ fillHoles: true })], [false, false, true, true]);
  assert.is(describePostProcess({}), 'none');
  assert.is(describePostProcess({ fillHoles: true, keepLargest: true, minSize: 20 }), 'min-size 20, keep-largest, fill-holes');
});

// ---- a hand-built binary run

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'alcli-postprocess-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
const at = (...p: string[]) => join(scratch, ...p);

// the prediction: a ring of 8 pixels around a hole, and a 2-pixel speck; the truth: the filled 3x3 square
const PRED = ['........', '.111....', '.1.1....', '.111....', '........', '......1.', '......1.', '........'];
const TRUTH = ['........', '.111....', '.111....', '.111....', '........', '........', '........', '........'];
const bytes = (rows: string[], on: number, off: number) => Uint8Array.from(rows.join(''), (ch) => (ch === '1' ? on : off));
const SPEC = `alcli: 1
name: bright
input: {channels: 1, size: [8, 8]}
output: {classes: 1, activation: sigmoid}
graph:
  head: {op: conv, in: input, out: 1, kernel: 1, bias: true}
`;

async function writeRun(dir: string, data: string): Promise<void> {
  for (const d of ['images', 'masks']) mkdirSync(join(data, d), { recursive: true });
  writeFileSync(join(data, 'images', 'a.png'), await grayPng(bytes(PRED, 230, 26), 8, 8));
  writeFileSync(join(data, 'masks', 'a.png'), await grayPng(bytes(TRUTH, 255, 0), 8, 8));
  writeFileSync(join(data, 'split.json'), JSON.stringify({ train: [], test: ['a'] }));
  // logit 40 (x - 0.5): gray 230 -> p ~ 1, gray 26 -> p ~ 0
  const weights: WeightStore = new Map([
    ['head:kernel', { shape: [1, 1, 1, 1], data: Float32Array.from([40]) }],
    ['head:bias', { shape: [1], data: Float32Array.from([-20]) }],
  ]);
  writeHandMadeRun(dir, { spec: SPEC, specPath: at('bright.yaml'), data, counts: { train: 0, val: 0, test: 1 }, channels: 1, weights });
}
await writeRun(at('run'), at('data'));

// AUC on the probabilities whatever the post-processing: 9 true pixels (8 bright, the hole dark), 55
// false (2 bright, 53 dark); a bright true one beats 53 and ties 2, the dark one ties 53
const AUC = (8 * (53 + 2 / 2) + 53 / 2) / (9 * 55);

test('evaluateRun with --tta flips: IoU of the post-processed mask, AUC of the probabilities, both recorded', async () => {
  /** [post-processing, IoU: tp / (tp + fp + fn)] */
  const CASES: [{ keepLargest?: boolean; fillHoles?: boolean; minSize?: number } | undefined, number][] = [
    [undefined, 8 / 11], // the ring and the speck: tp 8, fp 2, fn 1 (the hole)
    [{ keepLargest: true }, 8 / 9],
    [{ minSize: 3 }, 8 / 9],
    [{ keepLargest: true, fillHoles: true }, 1],
  ];
  for (const [post, iou] of CASES) {
    const r = await evaluateRun(await openRun(at('run')), { tta: 'flips', postProcess: post, threshold: 0.5 });
    const name = JSON.stringify(post);
    assert.ok(Math.abs(r.summary.iou.mean - iou) < 1e-9, `${name}: IoU ${r.summary.iou.mean}, want ${iou}`);
    assert.ok(Math.abs(r.summary.auc.mean - AUC) < 1e-9, `${name}: AUC ${r.summary.auc.mean}, want ${AUC}`);
    assert.equal([r.tta, r.post_process], ['flips', { keep_largest: !!post?.keepLargest, min_size: post?.minSize ?? 0, fill_holes: !!post?.fillHoles }]);
  }
});

test('predictImages --keep-largest --fill-holes: the mask file is the post-processed one, the fraction counts it', async () => {
  mkdirSync(at('in'), { recursive: true });
  writeFileSync(at('in', 'a.png'), await grayPng(bytes(PRED, 230, 26), 8, 8));
  const r = await predictImages(at('run'), { images: [at('in', 'a.png')], out: at('P'), threshold: 0.5, tta: 'dihedral', postProcess: { keepLargest: true, fillHoles: true } });
  assert.equal([r.tta, r.post_process], ['dihedral', { keep_largest: true, min_size: 0, fill_holes: true }]);
  const { data } = await sharp(readFileSync(r.images[0].mask!)).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  assert.equal([...data], [...bytes(TRUTH, 255, 0)]);
  assert.is(r.images[0].foreground_fraction, 9 / 64);
});

test('evaluateSplit of a 2-class (softmax) predictor: per-class IoU of the post-processed argmax map', async () => {
  const [{ scanDataset }, { evaluateSplit }] = await Promise.all([import('../src/train/dataset.js'), import('../src/train/infer.js')]);
  const scan = await scanDataset(at('data'), { seed: 0, need: ['test'], classes: 2 });
  const samples = scan.dataset!.samples.filter((s) => s.split === 'test');
  // class 1 at 0.9 on the ring and the speck, 0.1 elsewhere (the same maps as the binary run's)
  const fg = Float32Array.from(PRED.join(''), (ch) => (ch === '1' ? 0.9 : 0.1));
  const predictor = { engine: 'tfjs' as const, classes: 2, stride: [1, 1] as [number, number], dispose() {}, predict: async () => Float32Array.from([...fg.map((p) => 1 - p), ...fg]) };
  const load = { channels: 1, classes: scan.dataset!.labels };
  for (const [post, iou] of [[undefined, 8 / 11], [{ keepLargest: true }, 8 / 9], [{ keepLargest: true, fillHoles: true }, 1]] as const) {
    const r = await evaluateSplit(predictor, samples, load, 0.5, { postProcess: post });
    assert.ok(Math.abs(r.classes![0].iou.mean - iou) < 1e-9, `${JSON.stringify(post)}: class 1 IoU ${r.classes![0].iou.mean}, want ${iou}`);
  }
});

test('alcli evaluate --tta flips --keep-largest: the text names both; --min-size must be a whole number', () => {
  const alcli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], { cwd: scratch, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const r = alcli(['evaluate', at('run'), '--tta', 'flips', '--keep-largest', '--threshold', '0.5']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /1 images, threshold 0\.5 \(--threshold\), tta flips \(4 passes\), post-processing keep-largest, /);
  assert.match(r.stdout, /iou +0\.8889 ± 0\.0000/);
  const bad = alcli(['evaluate', at('run'), '--min-size', '2.5']);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--min-size '2\.5': expected a whole number/);
});

test.run();
