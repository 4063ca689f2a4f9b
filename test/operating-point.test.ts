// The operating point (operating-point.ts, trained.ts tuneThreshold): the sweep picks the known
// best threshold on hand-made probabilities and masks; on a tiny run trained for one epoch,
// `--tune-threshold` records its choice in run.json, evaluate, predict and export use it (an
// explicit threshold still wins; a value tuned on other weights is not used), and the CLI prints
// before and after, refusing a softmax network and --threshold beside --tune-threshold.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import { exportArtifacts } from '../src/export/export.js';
import { BadOptionsError } from '../src/train/errors.js';
import { imageMetrics } from '../src/train/metrics.js';
import { meanDice, sweepThreshold, THRESHOLD_GRID, type SweepImage } from '../src/train/operating-point.js';
import { trainRun } from '../src/train/session.js';
import { encodePng, syntheticDataset } from '../src/train/synthetic.js';
import { evaluateRun, openRun, predictImages, runOperatingPoint, tuneThreshold } from '../src/train/trained.js';
import { memHost, tinySpec, writeDataset } from './helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'alcli-threshold-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
const at = (...p: string[]) => join(scratch, ...p);
const alcli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], { cwd: scratch, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

const img = (prob: number[], truth: number[], fov?: number[]): SweepImage => ({ prob: Float32Array.from(prob), truth: Float32Array.from(truth), fov: fov && Float32Array.from(fov) });

/** [case, images, reference, the threshold chosen, its mean Dice, the reference's mean Dice] */
const CASES: [string, SweepImage[], number, number, number, number][] = [
  // every t in (0.1, 0.3] separates exactly; 0.3 is the one nearest 0.5. At 0.5: tp 2, fn 2
  ['perfect below 0.5: the top of the plateau', [img([0.1, 0.3, 0.35, 0.6, 0.8], [0, 1, 1, 1, 1])], 0.5, 0.3, 1, 4 / 6],
  // every t in (0.6, 0.9] is perfect: 0.61 is the nearest to 0.5
  ['perfect above 0.5: the bottom of the plateau', [img([0.2, 0.6, 0.9, 0.95], [0, 0, 1, 1])], 0.5, 0.61, 1, 4 / 5],
  // a plateau holding the reference keeps it
  ['indifferent: the reference stays', [img([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])], 0.5, 0.5, 1, 1],
  // a 2-pixel image perfect for t in (0.2, 0.25] (Dice 0 above 0.25), a 20-pixel one perfect for t
  // in (0.3, 0.9) (2/3 at 0.25): the mean over images, each weighing the same, picks 0.25 (5/6; 0.5
  // gives 1/2), where pooling the pixels would pick 0.5 (20/21 against 22/32)
  ['two images: the mean over images, not over pooled pixels', [img([0.25, 0.2], [1, 0]), img([...Array(10).fill(0.3), ...Array(10).fill(0.9)], [...Array(10).fill(0), ...Array(10).fill(1)])], 0.5, 0.25, 5 / 6, 1 / 2],
  // the FOV leaves out the pixel that made 0.5 wrong
  ['the FOV counts', [img([0.3, 0.4, 0.9], [1, 0, 1], [1, 0, 1])], 0.5, 0.3, 1, 2 / 3],
  // only t in (0.421, 0.429] is perfect: no grid point, but the spec's 0.425 is
  ['an off-grid reference that no grid point beats is kept', [img([0.421, 0.429], [0, 1])], 0.425, 0.425, 1, 1],
];

test('sweepThreshold: the known best threshold, its Dice and the reference\'s, on hand-made cases', () => {
  for (const [name, images, reference, value, dice, refDice] of CASES) {
    const s = sweepThreshold(images, reference);
    assert.ok(Math.abs(s.value - value) < 1e-12, `${name}: chose ${s.value}, want ${value}`);
    assert.ok(Math.abs(s.dice - dice) < 1e-12, `${name}: Dice ${s.dice}, want ${dice}`);
    assert.ok(Math.abs(s.reference.dice - refDice) < 1e-12, `${name}: reference Dice ${s.reference.dice}, want ${refDice}`);
    // the Dice here is evaluate's: imageMetrics at the same threshold, mean over images
    const evaluated = images.reduce((a, im) => a + imageMetrics(im.prob, im.truth, im.fov, s.value).dice, 0) / images.length;
    assert.ok(Math.abs(evaluated - s.dice) < 1e-12, name);
    assert.is(s.curve.length, THRESHOLD_GRID.length);
  }
  assert.equal([THRESHOLD_GRID[0], THRESHOLD_GRID[1], THRESHOLD_GRID.at(-1)], [0.05, 0.06, 0.95]);
  assert.is(meanDice([img([0.5], [1])], 0.5), 1);
  assert.throws(() => sweepThreshold([]), /no images/);
});

// ---- on a trained run

writeFileSync(at('tiny.yaml'), tinySpec({ epochs: 1, deep: false }));
const samples = syntheticDataset(7, { count: 10, size: 32, channels: 1 });
await writeDataset(at('data'), samples);
await trainRun({ spec: at('tiny.yaml'), data: at('data'), out: at('run') }, { log: () => {} });
writeFileSync(at('input.png'), await encodePng(samples[0].image));

test('tuneThreshold records the sweep in run.json; evaluate and predict use it; --threshold still wins', async () => {
  const opened = await openRun(at('run'));
  assert.equal(await runOperatingPoint(opened), { value: 0.5, from: 'default' });
  const before = await evaluateRun(opened, { split: 'val' });
  const { tuned, curve } = await tuneThreshold(opened, { engine: 'ort' });
  const info = JSON.parse(readFileSync(at('run', 'run.json'), 'utf8'));
  assert.equal(info.threshold, tuned);
  assert.is(tuned.tuned_on, 'val');
  assert.is(tuned.images, opened.info.data.counts.val);
  assert.is(tuned.epoch, 1);
  assert.is(tuned.default, 0.5);
  // the Dice recorded is evaluate's on val, at 0.5 and at the chosen cut, and the best of the curve
  assert.ok(Math.abs(tuned.default_dice - before.summary.dice.mean) < 1e-9, `${tuned.default_dice} vs ${before.summary.dice.mean}`);
  assert.ok(tuned.dice >= tuned.default_dice);
  assert.ok(Math.abs(tuned.dice - Math.max(tuned.default_dice, ...curve.map((c) => c.dice))) < 1e-12);
  // from now on: evaluate, predict (a fresh open, as a new command would)
  const again = await openRun(at('run'));
  const after = await evaluateRun(again, { split: 'val' });
  assert.equal([after.threshold, after.threshold_from], [tuned.value, 'tuned']);
  assert.ok(Math.abs(after.summary.dice.mean - tuned.dice) < 1e-9);
  const p = await predictImages(again, { images: [at('input.png')], out: at('pred') });
  assert.equal([p.threshold, p.threshold_from], [tuned.value, 'tuned']);
  const explicit = await predictImages(again, { images: [at('input.png')], out: at('pred2'), threshold: tuned.value });
  assert.is(p.images[0].foreground_fraction, explicit.images[0].foreground_fraction);
  const given = await evaluateRun(again, { split: 'val', threshold: 0.9 });
  assert.equal([given.threshold, given.threshold_from], [0.9, 'option']);
  assert.ok(tuned.value !== 0.9);
});

test('a threshold tuned on other weights (another epoch) is not used, and the note says so', async () => {
  const path = at('run', 'run.json');
  const saved = readFileSync(path, 'utf8');
  const info = JSON.parse(saved);
  writeFileSync(path, JSON.stringify({ ...info, threshold: { ...info.threshold, value: 0.37, epoch: 9 } }));
  try {
    const r = await evaluateRun(await openRun(at('run')), { split: 'val' });
    assert.equal([r.threshold, r.threshold_from], [0.5, 'default']);
    assert.match(r.threshold_note!, /0\.37 tuned on epoch 9's weights is not used for the best checkpoint \(epoch 1\)/);
  } finally {
    writeFileSync(path, saved);
  }
});

test('export of the run: MODEL_CARD.md and model.ts carry the tuned threshold', async () => {
  const t = JSON.parse(readFileSync(at('run', 'run.json'), 'utf8')).threshold;
  // a value no default could be, so the files show where it came from
  writeFileSync(at('run', 'run.json'), JSON.stringify({ ...JSON.parse(readFileSync(at('run', 'run.json'), 'utf8')), threshold: { ...t, value: 0.37 } }));
  const res = await exportArtifacts(at('run'), { output: at('export'), formats: ['onnx', 'ts'], opset: 17, seed: 0, tolerance: 1e-4, backend: 'wasm' });
  assert.ok(res.ok);
  const card = readFileSync(at('export', 'MODEL_CARD.md'), 'utf8');
  assert.match(card, /threshold 0\.37 for a mask \(tuned on the validation split \(\d+ images, epoch 1\) for the highest mean Dice/);
  const ts = readFileSync(at('export', 'model.ts'), 'utf8');
  assert.match(ts, /export const THRESHOLD = 0\.37;/);
  assert.match(ts, /\/\*\* the default cut for threshold\(\): tuned on the validation split/);
});

test('a softmax network is refused: argmax has no threshold', async () => {
  const opened = await openRun(at('run'));
  const spec = tinySpec({ epochs: 1, deep: false }).replace('output: {classes: 1}', 'output: {classes: 3, activation: softmax}').replace('out: 1, kernel: 1, bias: true', 'out: 3, kernel: 1, bias: true');
  const softmax = compile('s.yaml', memHost({ 's.yaml': spec })).compiled!;
  try {
    await tuneThreshold({ ...opened, compiled: softmax });
    assert.unreachable('not refused');
  } catch (e) {
    assert.instance(e, BadOptionsError);
    assert.match((e as Error).message, /--tune-threshold is for binary networks .* 3 classes with softmax: .*argmax/);
  }
});

test('cli: evaluate --tune-threshold prints before and after; with --threshold it is a usage error', () => {
  const r = alcli(['evaluate', at('run'), '--tune-threshold', '--split', 'val', '--engine', 'ort']);
  assert.is(r.status, 0, r.stderr);
  const t = JSON.parse(readFileSync(at('run', 'run.json'), 'utf8')).threshold;
  const change = t.value === t.default ? `${t.default} kept` : `${t.default} -> ${t.value}`;
  assert.match(r.stdout, `threshold tuned on the val split (${t.images} images, best checkpoint, epoch 1): ${change}, mean Dice ${t.default_dice.toFixed(4)} -> ${t.dice.toFixed(4)}; recorded in`);
  assert.match(r.stdout, `threshold ${t.value} (tuned on val)`);
  const both = alcli(['evaluate', at('run'), '--tune-threshold', '--threshold', '0.4']);
  assert.is(both.status, 2);
  assert.match(both.stderr, /--tune-threshold picks the threshold itself: drop --threshold/);
});

test.run();
