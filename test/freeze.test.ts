// Freezing (src/train/freeze.ts): which keys an epoch freezes (train.freeze globs, init.freeze_epochs,
// freeze_bn) as tables; on both engines frozen weights, their Adam slots and (with freeze_bn) their
// BatchNorm running statistics stay bit-identical over 3 steps while the rest move; a run with
// freeze_epochs switches at the epoch boundary and resumes across the switch bit for bit; a glob
// that matches nothing is refused naming it.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import { emitOnnx } from '../src/emit/onnx.js';
import { initWeights, randomizeBatchNorm, type WeightStore } from '../src/ir/weights.js';
import { loadTf } from '../src/runtime/backend.js';
import { randomInput } from '../src/runtime/verify.js';
import type { EngineOptions, TrainEngine } from '../src/train/engine.js';
import { TfjsEngine } from '../src/train/engine-tfjs.js';
import { BadOptionsError } from '../src/train/errors.js';
import { frozenAt, frozenNodes, type FreezeSettings } from '../src/train/freeze.js';
import { globRegExp } from '../src/train/init/maps.js';
import { DEFAULT_LOSS, optimizerSlots, optimizerStepKey } from '../src/train/objective.js';
import { OrtEngine } from '../src/train/ort/engine.js';
import { fsRunHost, RunDir } from '../src/train/run.js';
import { trainRun, type TrainRunOptions } from '../src/train/session.js';
import { syntheticDataset } from '../src/train/synthetic.js';
import { memHost, tinySpec, writeDataset, thrown } from './helpers.js';

const { tf } = await loadTf('wasm');
const scratch = mkdtempSync(join(tmpdir(), 'alcli-freeze-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
const g = compile('tiny.yaml', memHost({ 'tiny.yaml': tinySpec({ epochs: 1, deep: false }) })).compiled!.graph;
const settings = (s: Partial<FreezeSettings>): FreezeSettings => ({ freeze: [], freezeBn: false, freezeEpochs: 0, ...s });
const bn = (id: string) => [`${id}:gamma`, `${id}:beta`];
const stats = (id: string) => [`${id}:mean`, `${id}:variance`];
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

test('node-id globs: * within one / segment, ** across', () => {
  const cases: [string, string, boolean][] = [
    ['e1/*', 'e1/conv', true],
    ['e1/*', 'e1/down/conv', false],
    ['e2/**', 'e2/a/b/c', true],
    ['e2/**', 'e20/a', false],
    ['*/bn', 'd3/bn', true],
    ['c1', 'c10', false],
  ];
  for (const [glob, id, want] of cases) assert.is(globRegExp(glob, '/').test(id), want, `${glob} ~ ${id}`);
});

test('frozenAt as a table: globs, freeze_bn, freeze_epochs before and at the boundary', () => {
  const init = { mapped: ['c1:kernel', ...bn('b1'), ...stats('b1')].map((key) => ({ key })) };
  const cases: [string, Partial<FreezeSettings>, number, string[]][] = [
    ['nothing', {}, 0, []],
    ['a conv and its bn', { freeze: ['c1', 'b1'] }, 0, ['c1:kernel', ...bn('b1')]],
    ['bn globs with freeze_bn', { freeze: ['b*'], freezeBn: true }, 5, [...bn('b1'), ...stats('b1'), ...bn('b2'), ...stats('b2')]],
    ['freeze_epochs 2, epoch 1: what the init loaded', { freezeEpochs: 2 }, 1, ['c1:kernel', ...bn('b1')]],
    ['freeze_epochs 2, epoch 2: everything trains', { freezeEpochs: 2 }, 2, []],
    ['freeze_epochs with freeze_bn and a glob', { freezeEpochs: 1, freezeBn: true, freeze: ['head'] }, 0, ['c1:kernel', ...bn('b1'), ...stats('b1'), 'head:kernel', 'head:bias']],
    ['the glob outlasts freeze_epochs', { freezeEpochs: 1, freeze: ['head'] }, 1, ['head:kernel', 'head:bias']],
  ];
  for (const [name, s, epoch, want] of cases) assert.equal([...frozenAt(g, settings(s), init, epoch)].sort(), [...want].sort(), name);
});

test('bad freezing is a BadOptionsError naming what is wrong', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['a glob matching nothing', () => frozenNodes(g, ['c1', 'enc/*', 'r1']), /'enc\/\*', 'r1' match no node with weights \(c1, b1, c2, b2, head\)/],
    ['freeze_epochs without an init', () => frozenAt(g, settings({ freezeEpochs: 2 }), undefined, 0), /freeze_epochs is 2 but the run has no initial weights/],
  ];
  for (const [name, f, message] of cases) {
    const e = thrown(f);
    assert.instance(e, BadOptionsError, name);
    assert.match(e.message, message, name);
  }
});

// --- both engines: 3 steps with a frozen set -----------------------------------------------------
const opts: EngineOptions = { optimizer: { kind: 'adam' }, loss: DEFAULT_LOSS };
const ENGINES: [string, (w: WeightStore) => Promise<TrainEngine>][] = [
  ['tfjs', async (w) => new TfjsEngine(tf, g, w, opts)],
  ['ort', (w) => OrtEngine.create(g, w, opts, 1)],
];
const SHAPE: [number, number, number, number] = [2, 32, 32, 1];
const batch = (seed: number) => ({ x: randomInput(SHAPE, seed), y: Float32Array.from(randomInput(SHAPE, seed + 50), (v) => (v > 0.3 ? 1 : 0)), shape: SHAPE });

for (const [engineName, create] of ENGINES)
  for (const [name, s] of [
    ['c1 and b1, b1 statistics keep updating', settings({ freeze: ['c1', 'b1'] })],
    ['every bn with freeze_bn', settings({ freeze: ['b*'], freezeBn: true })],
  ] as const)
    test(`${engineName}: ${name}: frozen weights and slots bit-identical over 3 steps, the rest move`, async () => {
      const start = randomizeBatchNorm(g, initWeights(g, 4), 5);
      const e = await create(start);
      const frozen = frozenAt(g, s, undefined, 0);
      e.setFrozen!(frozen);
      for (let k = 0; k < 3; k++) await e.step(batch(k), 0.01);
      const [w, slots] = [e.weights(), e.optimizerState()];
      e.dispose();
      for (const [key, t] of start) {
        assert.is(same(w.get(key)!.data, t.data), frozen.has(key), `${key} ${frozen.has(key) ? 'frozen: unchanged' : 'trains: moved'}`);
        for (const slot of key.endsWith('mean') || key.endsWith('variance') ? [] : optimizerSlots(opts.optimizer, key))
          assert.is(slots.get(slot)!.data.every((v) => v === 0), frozen.has(key), `${slot} ${frozen.has(key) ? 'stays zero' : 'moved'}`);
      }
      assert.is(slots.get(optimizerStepKey(opts.optimizer))?.data[0], 3, 'the step counter counts every step');
    });

test('after a freeze, Adam steps a weight as at its own first step (PyTorch per-parameter step): |update| = lr on both engines', async () => {
  const start = randomizeBatchNorm(g, initWeights(g, 4), 5);
  const moved: Float32Array[] = [];
  for (const [engineName, create] of ENGINES) {
    const e = await create(start);
    e.setFrozen!(new Set(['c1:kernel']));
    for (let k = 0; k < 2; k++) await e.step(batch(k), 0.01);
    const before = e.weights().get('c1:kernel')!.data;
    assert.ok(same(before, start.get('c1:kernel')!.data), `${engineName}: frozen for 2 steps`);
    e.setFrozen!(new Set(), new Map([['c1:kernel', 2]]));
    await e.step(batch(2), 0.01);
    const after = e.weights().get('c1:kernel')!.data;
    e.dispose();
    const delta = Float32Array.from(after, (v, i) => v - before[i]);
    moved.push(delta);
    // m / sqrt(v) bias-corrected at step 1 is g / |g|: every element moves by lr (t = 3 would give 0.64 lr)
    for (const d of delta) assert.ok(Math.abs(Math.abs(d) - 0.01) < 1e-5, `${engineName}: |update| ${Math.abs(d)}, lr 0.01`);
  }
  assert.ok(moved[0].every((d, i) => Math.sign(d) === Math.sign(moved[1][i])), 'the engines move it the same way');
});

// --- a run: freeze_epochs switches at the boundary, resume across it -----------------------------
const data = join(scratch, 'data');
await writeDataset(data, syntheticDataset(2, { count: 8, size: 40, channels: 1 }));
const source = randomizeBatchNorm(g, initWeights(g, 21), 22);
writeFileSync(join(scratch, 'w.onnx'), emitOnnx(g, source));
writeFileSync(join(scratch, 'map.yaml'), "rules:\n  - {regex: '(c1|b1):(kernel|gamma|beta|mean|variance)', to: '$1:$2'}\n");
let runs = 0;
async function run(train: string, more: Partial<TrainRunOptions> = {}) {
  const spec = join(scratch, `s${runs}.yaml`);
  writeFileSync(spec, tinySpec({ epochs: 2, deep: false }).replace('samples_per_image: 1}', `samples_per_image: 1, ${train}}`));
  const lines: string[] = [];
  const result = await trainRun({ spec, data, out: join(scratch, `r${runs++}`), engine: 'ort', ...more } as TrainRunOptions, { log: (l) => lines.push(l) });
  return { result, log: lines.join('\n'), dir: new RunDir(fsRunHost(result.run)) };
}
const INIT = 'init: {from: w.onnx, map: map.yaml, freeze_epochs: 1}';
const LOADED = ['c1:kernel', ...bn('b1')];

// the loop drives both engines alike (setFrozen); the engines' freezing is checked above, the run on ort (the faster one)
test('ort: freeze_epochs 1: epoch 1 leaves the loaded weights as the file had them, epoch 2 trains them; a run cut at the switch resumes bit for bit', async () => {
  const whole = await run(INIT);
  assert.match(whole.log, /freeze: 3 weights the init loaded for the first 1 epoch, then they train too/);
  const cut = await run(INIT, { stopAfter: 1 });
  const first = cut.dir.readCheckpoint('last');
  assert.is(first.state.step, 2, '4 train images, batch 2: 2 steps an epoch');
  for (const key of LOADED) {
    assert.ok(same(first.weights.get(key)!.data, source.get(key)!.data), `${key}: epoch 1 keeps the file's values`);
    assert.ok(first.optimizer.get(`adam/m/${key}`)!.data.every((v) => v === 0), `${key}: no Adam moment yet`);
  }
  assert.not.ok(same(first.weights.get('b1:mean')!.data, source.get('b1:mean')!.data), 'b1 running mean keeps updating (no freeze_bn)');
  assert.not.ok(same(first.weights.get('c2:kernel')!.data, initWeights(g, 3).get('c2:kernel')!.data), 'a new weight trains from epoch 1');
  await trainRun({ resume: cut.result.run }, { log: () => {} });
  const [a, b] = [cut.dir.readCheckpoint('last'), whole.dir.readCheckpoint('last')];
  for (const key of LOADED) assert.not.ok(same(a.weights.get(key)!.data, first.weights.get(key)!.data), `${key}: epoch 2 trains it`);
  for (const [what, x, y] of [['weights', a.weights, b.weights], ['optimizer', a.optimizer, b.optimizer]] as const)
    for (const [key, t] of y) assert.ok(same(x.get(key)!.data, t.data), `resumed ${what} ${key} equals the uninterrupted run's`);
});

test('a train.freeze glob that matches nothing stops the run before anything is written', async () => {
  const out = join(scratch, 'never');
  const spec = join(scratch, 'bad.yaml');
  writeFileSync(spec, tinySpec({ epochs: 1, deep: false }).replace('samples_per_image: 1}', "samples_per_image: 1, freeze: ['enc/**']}"));
  let error: unknown;
  await trainRun({ spec, data, out, engine: 'ort' } as TrainRunOptions, { log: () => {} }).catch((e) => (error = e));
  assert.instance(error, BadOptionsError);
  assert.match((error as Error).message, /'enc\/\*\*' matches no node/);
  assert.not.ok(existsSync(out));
});

test.run();
