// What an epoch is and when it validates: samples_per_image and samples_per_epoch set the step count
// (sample i is train image i % images), val_every leaves epochs without validation (empty val cells
// in metrics.csv, best and early stopping follow the validations), a run cut between validations
// resumes bit for bit, and a split with no val gets one carved from train, said and recorded.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { WeightStore } from '../src/ir/weights.js';
import { scanDataset } from '../src/train/dataset.js';
import type { TrainEngine } from '../src/train/engine.js';
import { epochOrder, epochSamples, loadTrainingData, makeBatch, trainLoop, trainSettings, validatesAt } from '../src/train/loop.js';
import { loadSample } from '../src/train/load.js';
import { fsRunHost, RunDir } from '../src/train/run.js';
import { trainRun, type TrainRunOptions } from '../src/train/session.js';
import { syntheticDataset } from '../src/train/synthetic.js';
import { memHost, tinySpec, writeDataset } from './helpers.js';
import { compile } from '../src/frontend/compile.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'alcli-epochs-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
let count = 0;
const tempDir = () => join(scratch, `r${count++}`);
const spec = join(scratch, 'tiny.yaml');
writeFileSync(spec, tinySpec({ epochs: 2, deep: false }));
const data = join(scratch, 'data');
// 8 images: the seeded 5:2:3 split gives 4 train, 2 val, 2 test
await writeDataset(data, syntheticDataset(2, { count: 8, size: 40, channels: 1 }));

async function run(opts: Partial<TrainRunOptions> & { set?: string[] }) {
  const lines: string[] = [];
  const result = await trainRun({ spec, data, out: tempDir(), engine: 'ort', ...opts } as TrainRunOptions, { log: (l) => lines.push(l) });
  return { result, log: lines.join('\n'), dir: new RunDir(fsRunHost(result.run)) };
}

const bitEqual = (a: WeightStore, b: WeightStore, what: string) => {
  assert.equal([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, t] of a) if (!t.data.every((v, i) => Object.is(v, b.get(k)!.data[i]))) assert.unreachable(`${what}: ${k} differs`);
};

test('epoch sizes and validation epochs as tables', () => {
  const cases: [Record<string, unknown>, number, number][] = [
    // train section, train images, samples per epoch
    [{}, 15, 120],
    [{ samples_per_image: 1 }, 15, 15],
    [{ samples_per_image: 3 }, 4, 12],
    [{ samples_per_epoch: 50 }, 4, 50],
  ];
  for (const [t, n, want] of cases) assert.is(epochSamples(trainSettings(t), n), want, JSON.stringify(t));
  const every: [number, number, boolean[]][] = [
    [1, 3, [true, true, true]],
    [2, 5, [false, true, false, true, true]],
    [3, 4, [false, false, true, true]],
  ];
  for (const [k, epochs, want] of every) assert.equal(Array.from({ length: epochs }, (_, e) => validatesAt(trainSettings({ val_every: k, epochs }), e)), want, `val_every ${k}`);
});

test('samples_per_image and samples_per_epoch: one of them; a --set of one replaces the spec\'s other', () => {
  const both = tinySpec({ epochs: 1, deep: false }).replace('samples_per_image: 1}', 'samples_per_image: 1, samples_per_epoch: 9}');
  const r = compile('both.yaml', memHost({ 'both.yaml': both }));
  assert.equal(r.diagnostics.map((d) => [d.message, d.at?.line]), [["'train' sets both samples_per_image and samples_per_epoch: give one", 14]]); // the train line, at the key samples_per_epoch
  const cases: [string[], number | undefined, number | undefined, RegExp?][] = [
    // --set, samples_per_image, samples_per_epoch after it (the spec says samples_per_image: 1)
    [[], 1, undefined],
    [['train.samples_per_epoch=9'], undefined, 9],
    [['train.samples_per_image=4'], 4, undefined],
    [['train.samples_per_image=4', 'train.samples_per_epoch=9'], undefined, undefined, /give one/],
  ];
  for (const [set, perImage, perEpoch, error] of cases) {
    const c = compile('tiny.yaml', memHost({ 'tiny.yaml': tinySpec({ epochs: 1, deep: false }) }), { overrides: set });
    if (error) assert.match(c.usageErrors.join('\n'), error);
    else assert.equal([c.compiled?.resolved.train?.samples_per_image, c.compiled?.resolved.train?.samples_per_epoch], [perImage, perEpoch], set.join(' '));
  }
});

test('sample i of an epoch is train image i % images, each sample with its own augmentation', async () => {
  const scan = await scanDataset(data, { need: ['train'] });
  const train = await Promise.all(scan.dataset!.samples.filter((s) => s.split === 'train').map((s) => loadSample(s, { channels: 1 })));
  const s = trainSettings({ crop: 40, augment: { dihedral: false, translate: 0 } });
  // no augmentation: sample 4 + i is image i again
  const plain = (idx: number[]) => makeBatch(train, idx, s, 0).x;
  assert.equal(plain([4, 5, 6, 7]), plain([0, 1, 2, 3]));
  const aug = trainSettings({ crop: 32 });
  assert.not.equal(makeBatch(train, [4], aug, 0).x, makeBatch(train, [0], aug, 0).x, 'another sample of the same image: another crop');
  assert.equal([...epochOrder(0, 3, 12)].sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i), 'the order is a permutation of the samples');
});

test('samples_per_image and samples_per_epoch set the step count (batch 2, 4 train images)', async () => {
  const cases: [string[], number][] = [
    [['train.epochs=1'], 2],
    [['train.epochs=1', 'train.samples_per_image=3'], 6],
    // the spec's samples_per_image: 1 gives way to the --set samples_per_epoch
    [['train.epochs=2', 'train.samples_per_epoch=5'], 6],
  ];
  for (const [set, steps] of cases) {
    const { result, dir } = await run({ set });
    assert.is(result.steps, steps, set.join(' '));
    assert.is(dir.readMetrics().length, result.epochs);
  }
});

test('val_every 2: epoch 1 has empty val cells and no best; a run cut there resumes bit for bit (samples_per_image 3)', async () => {
  const set = ['train.samples_per_image=3', 'train.val_every=2', 'train.epochs=3'];
  const whole = await run({ set });
  const csv = readFileSync(join(whole.result.run, 'metrics.csv'), 'utf8').trim().split('\n');
  assert.match(csv[1], /^1,[^,]+,[^,]+,,,,,/, 'epoch 1: val columns empty');
  assert.match(csv[2], /^2,[^,]+,[^,]+,[^,]+,[^,]+,/, 'epoch 2: validated');
  assert.match(csv[3], /^3,[^,]+,[^,]+,[^,]+,/, 'epoch 3: the last always validates');
  const rows = whole.dir.readMetrics();
  assert.ok(Number.isNaN(rows[0].val_iou) && Number.isFinite(rows[1].val_iou) && Number.isFinite(rows[2].val_iou));
  const bests = whole.dir.readEvents().filter((e) => e.event === 'best').map((e) => e.epoch);
  assert.ok(bests.length >= 1 && !bests.includes(1), `best at ${bests}`);
  assert.is(whole.result.steps, 3 * 6);

  const cut = await run({ set, stopAfter: 1 });
  assert.is(cut.result.epochs, 1);
  assert.not.ok(cut.dir.hasCheckpoint('best'), 'no validation yet: no best');
  const resumed = await trainRun({ resume: cut.result.run }, { log: () => {} });
  assert.is(resumed.epochs, 3);
  assert.equal(resumed.best, whole.result.best);
  for (const name of ['last', 'best'] as const) {
    const [a, b] = [cut.dir.readCheckpoint(name), whole.dir.readCheckpoint(name)];
    bitEqual(a.weights, b.weights, `${name} weights`);
    bitEqual(a.optimizer, b.optimizer, `${name} optimizer`);
  }
  const strip = (r: Record<string, number>) => ({ ...r, seconds: 0, images_per_s: 0 });
  assert.equal(cut.dir.readMetrics().map(strip), rows.map(strip));
});

/** An engine whose predictions never change: every validation after the first is no better. */
const frozen = (): TrainEngine => {
  let steps = 0;
  const store = (): WeightStore => new Map([['w:k', { shape: [1], data: Float32Array.of(steps) }]]);
  return {
    name: 'frozen',
    step: async () => (steps++, 0.5),
    infer: async (x, [n, h, w]) => new Float32Array(n * h * w).fill(1),
    weights: store,
    optimizerState: store,
    load: () => {},
    dispose: () => {},
  };
};

test('early_stop counts validations, not epochs; best moves only at validations', async () => {
  const scan = await scanDataset(data, { need: ['train', 'val'] });
  const loaded = await loadTrainingData(scan.dataset!.samples, { channels: 1, normalize: 'none' });
  const cases: [number, number, number, number][] = [
    // val_every, early_stop, epochs it stops after, validations it made
    [1, 2, 3, 3],
    [2, 1, 4, 2],
    [3, 2, 9, 3],
    [3, 5, 10, 4],
  ];
  for (const [valEvery, patience, stopsAt, validations] of cases) {
    const dir = tempDir();
    mkdirSync(dir);
    const run = new RunDir(fsRunHost(dir));
    const settings = trainSettings({ epochs: 10, batch: 2, crop: 32, samples_per_image: 1, val_every: valEvery, early_stop: patience });
    const r = await trainLoop({ engine: frozen(), data: loaded, settings, stride: [1, 1], run });
    const what = `val_every ${valEvery}, early_stop ${patience}`;
    assert.is(r.epochs, stopsAt, what);
    assert.is(r.stopped, stopsAt < 10 ? 'early_stop' : 'done', what);
    assert.is(run.readMetrics().filter((m) => !Number.isNaN(m.val_iou)).length, validations, what);
    assert.is(r.best.epoch, valEvery, `${what}: best is the first validation`);
  }
});

test('cli: the epoch line of an epoch without validation says so (node bin/run.js: npm test builds dist/ first)', () => {
  const out = tempDir();
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'run.js'), 'train', spec, '--data', data, '--out', out, '--engine', 'ort', '--set', 'train.epochs=2', '--set', 'train.val_every=2'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', DEBUG: '' } });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /^epoch 1\/2 .*loss [\d.]+ {2}no validation this epoch {2}/m);
  assert.match(r.stderr, /^epoch 2\/2 .*val loss [\d.]+ {2}IoU [\d.]+ .*\*best$/m);
  assert.match(r.stdout, /best val IoU [\d.]+ at epoch 2/);
});

test('a split.json with an empty val: val carved from train (2/7, seeded), said in the log and recorded in run.json', async () => {
  const ids = syntheticDataset(2, { count: 8, size: 40, channels: 1 }).map((s) => s.id);
  const noVal = join(scratch, 'noval');
  await writeDataset(noVal, syntheticDataset(2, { count: 8, size: 40, channels: 1 }));
  writeFileSync(join(noVal, 'split.json'), JSON.stringify({ train: ids.slice(0, 6), val: [], test: ids.slice(6) }));
  const scan = await scanDataset(noVal, { need: ['train', 'val'] });
  const carved = scan.dataset!.carvedVal;
  assert.is(carved.length, 2, '2/7 of 6');
  assert.ok(carved.every((id) => ids.slice(0, 6).includes(id)), 'from the train ids');
  assert.equal((await scanDataset(noVal, { need: ['train', 'val'] })).dataset!.carvedVal, carved, 'seeded: the same every time');
  const { result, log, dir } = await run({ data: noVal, set: ['train.epochs=1'] });
  assert.is(result.epochs, 1);
  assert.match(log, new RegExp(`val: the split has none; 2 of the train images carved out .*${carved.join(', ')}`));
  const info = dir.readInfo()!;
  assert.equal(info.data.val_carved, carved);
  assert.equal(info.data.counts, { train: 4, val: 2, test: 2 });
  // without the key at all, the same
  writeFileSync(join(noVal, 'split.json'), JSON.stringify({ train: ids.slice(0, 6), test: ids.slice(6) }));
  assert.equal((await scanDataset(noVal, { need: ['train', 'val'] })).dataset!.carvedVal, carved);
});

test.run();
