// Learning-rate schedules (loop.ts lrAt) and the optimizers (objective.ts: Adam, AdamW, SGD with and
// without Nesterov) on both engines: a table of (schedule, warmup, epoch) -> lr, the loop feeding
// that lr to the engine, the settings refused, and 3 steps of each optimizer on a 1-parameter
// network against PyTorch's update rules computed here in float64, on the TF.js engine and on the
// compiled ONNX step in ONNX Runtime.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import { loadTf } from '../src/runtime/backend.js';
import type { WeightStore } from '../src/ir/weights.js';
import { TfjsEngine } from '../src/train/engine-tfjs.js';
import { OrtEngine } from '../src/train/ort/engine.js';
import type { TrainEngine } from '../src/train/engine.js';
import { BadOptionsError } from '../src/train/errors.js';
import { describeOptimization, lrAt, trainLoop, trainSettings, type TrainSettings } from '../src/train/loop.js';
import { optimizerSlots, optimizerStepKey, type OptimizerOptions } from '../src/train/objective.js';
import { defaultClassTable } from '../src/train/classes.js';
import { fsRunHost, RunDir } from '../src/train/run.js';
import { memHost } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'alcli-schedule-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
const { tf } = await loadTf('wasm');

const base = { lr: 0.01, lrDecay: 0.9, epochs: 10 };
const near = (a: number, b: number, tol = 1e-12) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

test('lrAt: (schedule, warmup, epoch) -> lr', () => {
  const c = (e: number, span: number) => 0.5 * (1 + Math.cos((Math.PI * e) / span));
  const rows: [TrainSettings['schedule'], number, number, number][] = [
    // exp without warm-up is the old rule lr x decay^e
    ['exp', 0, 0, 0.01],
    ['exp', 0, 1, 0.009],
    ['exp', 0, 9, 0.01 * 0.9 ** 9],
    // warm-up: lr x (e + 1) / (W + 1), then the schedule restarts at lr
    ['exp', 3, 0, 0.0025],
    ['exp', 3, 2, 0.0075],
    ['exp', 3, 3, 0.01],
    ['exp', 3, 4, 0.009],
    // poly: lr (1 - e/E)^0.9 over E = epochs - warmup
    ['poly', 0, 0, 0.01],
    ['poly', 0, 5, 0.01 * 0.5 ** 0.9],
    ['poly', 0, 9, 0.01 * 0.1 ** 0.9],
    ['poly', 2, 1, 0.01 * (2 / 3)],
    ['poly', 2, 2, 0.01],
    ['poly', 2, 6, 0.01 * 0.5 ** 0.9],
    // cosine: lr 0.5 (1 + cos(pi e / E))
    ['cosine', 0, 0, 0.01],
    ['cosine', 0, 5, 0.005],
    ['cosine', 0, 9, 0.01 * c(9, 10)],
    ['cosine', 4, 0, 0.002],
    ['cosine', 4, 4, 0.01],
    ['cosine', 4, 7, 0.005],
  ];
  for (const [schedule, warmup, epoch, want] of rows) {
    const got = lrAt({ ...base, schedule, warmup }, epoch);
    assert.ok(near(got, want), `${schedule} warmup ${warmup} epoch ${epoch}: ${got} vs ${want}`);
  }
  // every schedule stays positive and (after the warm-up) never rises
  for (const schedule of ['exp', 'poly', 'cosine'] as const)
    for (let e = 1; e < 10; e++) {
      const [a, b] = [lrAt({ ...base, schedule, warmup: 0 }, e - 1), lrAt({ ...base, schedule, warmup: 0 }, e)];
      assert.ok(b > 0 && b < a, `${schedule} epoch ${e}: ${a} -> ${b}`);
    }
});

test('trainSettings: the new keys, their defaults, and the combinations refused', () => {
  const d = trainSettings({});
  assert.equal([d.schedule, d.warmup, d.optimizer], ['exp', 0, { kind: 'adam' }]);
  const s = trainSettings({ schedule: 'cosine', warmup: 2, optimizer: 'sgd', nesterov: true, momentum: 0.8, weight_decay: 0.001 });
  assert.equal([s.schedule, s.warmup, s.optimizer], ['cosine', 2, { kind: 'sgd', nesterov: true, momentum: 0.8, weightDecay: 0.001 }]);
  assert.equal(trainSettings({ optimizer: 'adamw', betas: [0.8, 0.99] }).optimizer, { kind: 'adamw', betas: [0.8, 0.99] });
  // the training log's words for them
  assert.is(describeOptimization(d), 'adam, lr 0.005 x0.95 per epoch');
  assert.is(describeOptimization(s), 'sgd (nesterov), lr 0.005 cosine after 2 warm-up epochs');
  const refused: [Record<string, unknown>, RegExp][] = [
    [{ epochs: 5, warmup: 5 }, /train\.warmup is 5 epochs but train\.epochs is 5/],
    [{ warmup: 1.5 }, /train\.warmup is 1\.5: it must be a finite integer/],
    [{ schedule: 'step' }, /train\.schedule is "step": choose exp, poly, cosine/],
    [{ optimizer: 'rmsprop' }, /train\.optimizer is "rmsprop": choose adam, adamw, sgd/],
    [{ optimizer: 'adam', nesterov: true }, /train\.nesterov is an SGD setting; train\.optimizer is adam/],
    [{ optimizer: 'adamw', momentum: 0.9 }, /train\.momentum is an SGD setting/],
    [{ optimizer: 'sgd', betas: [0.9, 0.99] }, /train\.betas is an Adam\/AdamW setting/],
    [{ optimizer: 'sgd', nesterov: true, momentum: 0 }, /train\.nesterov needs a momentum above 0/],
    [{ optimizer: 'sgd', momentum: 1 }, /train\.momentum is 1: it must be a finite number in \[0, 1\)/],
    [{ betas: [0.9, 1] }, /train\.betas is \[0\.9,1\]/],
  ];
  for (const [train, message] of refused) {
    try {
      trainSettings(train);
      assert.unreachable(JSON.stringify(train));
    } catch (e) {
      assert.instance(e, BadOptionsError, JSON.stringify(train));
      assert.match((e as Error).message, message);
    }
  }
});

test('the spec schema takes the new keys and refuses bad values (usage errors naming the key)', () => {
  const spec = `alcli: 1\ninput: {channels: 1, size: [8, 8]}\noutput: {classes: 1}\ngraph:\n  head: {op: conv, in: input, out: 1, kernel: 1}\ntrain: {schedule: poly, warmup: 2, optimizer: sgd, nesterov: true, momentum: 0.9}\n`;
  const host = memHost({ 's.yaml': spec });
  assert.ok(compile('s.yaml', host).compiled);
  const bad: [string, RegExp][] = [
    ['train.schedule=step', /train\.schedule/],
    ['train.optimizer=rmsprop', /train\.optimizer/],
    ['train.momentum=1', /train\.momentum .*must be < 1/],
    ['train.warmup=-1', /train\.warmup .*must be >= 0/],
  ];
  for (const [set, message] of bad) {
    const r = compile('s.yaml', host, { overrides: [set] });
    assert.not.ok(r.compiled, set);
    assert.match([...r.usageErrors, ...r.diagnostics.map((d) => d.message)].join('\n'), message, set);
  }
});

test('the loop gives the engine lrAt of each epoch (cosine after a 1-epoch warm-up)', async () => {
  const lrs: number[] = [];
  const img = (v: (i: number) => number) => ({ data: Float32Array.from({ length: 64 }, (_, i) => v(i)), height: 8, width: 8, channels: 1 });
  const sample = (id: string) => ({ id, image: img((i) => i / 64), mask: img((i) => (i % 3 ? 0 : 1)) });
  const engine: TrainEngine = {
    name: 'recorder',
    step: async (_b, lr) => (lrs.push(lr), 0.5),
    infer: async (_x, shape) => new Float32Array(shape[1] * shape[2]),
    weights: () => new Map(),
    optimizerState: () => new Map(),
    load: () => undefined,
    dispose: () => undefined,
  };
  const settings = trainSettings({ epochs: 4, batch: 2, crop: 8, lr: 0.1, schedule: 'cosine', warmup: 1, samples_per_image: 1 });
  const run = new RunDir(fsRunHost(join(scratch, 'loop')));
  await trainLoop({ engine, data: { train: [sample('a'), sample('b'), sample('c')], val: [sample('v')], normalize: null, classes: defaultClassTable(1) }, settings, stride: [1, 1], run });
  // 3 samples at batch 2: 2 steps per epoch, each at its epoch's rate; metrics.csv records it
  const want = [0.05, 0.1, 0.075, 0.025];
  assert.equal(lrs.length, 8);
  lrs.forEach((lr, k) => assert.ok(near(lr, want[Math.floor(k / 2)]), `step ${k}: ${lr}`));
  run.readMetrics().forEach((r, e) => assert.ok(near(r.lr, want[e], 1e-6), `metrics epoch ${e + 1}: ${r.lr}`));
});

// x = 1 and y = 1 at every pixel of an 8x8 image, BCE only, one 1x1 kernel w: loss = softplus(-w),
// dL/dw = sigmoid(w) - 1. Three steps at changing learning rates.
const ONE_WEIGHT = compile('one.yaml', memHost({ 'one.yaml': `alcli: 1\ninput: {channels: 1, size: [8, 8]}\noutput: {classes: 1}\ngraph:\n  head: {op: conv, in: input, out: 1, kernel: 1}\n` })).compiled!.graph;
const W0 = 0.8;
const LRS = [0.05, 0.1, 0.02];
const KEY = 'head:kernel';

/** PyTorch's update rules (torch.optim.Adam, AdamW, SGD; docs' pseudo-code) in float64: w and the state after each step. */
function reference(o: Required<Pick<OptimizerOptions, 'kind'>> & OptimizerOptions) {
  const wd = o.weightDecay ?? (o.kind === 'adamw' ? 0.01 : 0);
  const mu = o.momentum ?? 0.9;
  const [b1, b2] = o.betas ?? [0.9, 0.999];
  let w = W0;
  let m = 0;
  let v = 0;
  let buf = 0;
  const out: { loss: number; w: number; slots: number[] }[] = [];
  LRS.forEach((lr, i) => {
    const t = i + 1;
    const loss = Math.log1p(Math.exp(-w));
    let g = 1 / (1 + Math.exp(-w)) - 1;
    if (o.kind === 'adamw') w *= 1 - lr * wd;
    else g += wd * w;
    if (o.kind === 'sgd') {
      buf = t === 1 ? g : mu * buf + g;
      w -= lr * (o.nesterov ? g + mu * buf : buf);
      out.push({ loss, w, slots: [buf] });
    } else {
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      w -= (lr / (1 - b1 ** t)) * (m / (Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + 1e-8));
      out.push({ loss, w, slots: [m, v] });
    }
  });
  return out;
}

const CASES: [string, OptimizerOptions][] = [
  ['adamw (default decay 0.01)', { kind: 'adamw' }],
  ['adamw decay 0.5', { kind: 'adamw', weightDecay: 0.5 }],
  ['adamw decay 0.5, betas 0.8/0.99', { kind: 'adamw', weightDecay: 0.5, betas: [0.8, 0.99] }],
  ['adam L2 0.5 (not decoupled)', { kind: 'adam', weightDecay: 0.5 }],
  ['sgd nesterov, momentum 0.9', { kind: 'sgd', nesterov: true }],
  ['sgd nesterov, momentum 0.5, L2 0.1', { kind: 'sgd', nesterov: true, momentum: 0.5, weightDecay: 0.1 }],
  ['sgd (heavy ball)', { kind: 'sgd' }],
];

const engines: [string, (o: OptimizerOptions, w: WeightStore) => Promise<TrainEngine>][] = [
  ['tfjs', async (optimizer, w) => new TfjsEngine(tf, ONE_WEIGHT, w, { optimizer, loss: { bce: 1, dice: 0 } })],
  ['ort', async (optimizer, w) => OrtEngine.create(ONE_WEIGHT, w, { optimizer, loss: { bce: 1, dice: 0 } }, 1)],
];

test('3 steps of each optimizer on a 1-parameter network match PyTorch\'s rules, on both engines', async () => {
  const batch = { x: new Float32Array(64).fill(1), y: new Float32Array(64).fill(1), shape: [1, 8, 8, 1] as [number, number, number, number] };
  for (const [name, o] of CASES) {
    const want = reference({ ...o });
    // the cases differ from each other: a rule left out would show
    if (name.startsWith('adamw decay')) assert.ok(Math.abs(want[2].w - reference({ kind: 'adam' })[2].w) > 1e-3, name);
    if (name.startsWith('sgd nesterov, momentum 0.9')) assert.ok(Math.abs(want[2].w - reference({ kind: 'sgd' })[2].w) > 1e-3, name);
    const states: WeightStore[] = [];
    for (const [engineName, make] of engines) {
      const e = await make(o, new Map([[KEY, { shape: [1, 1, 1, 1], data: Float32Array.of(W0) }]]));
      for (let i = 0; i < LRS.length; i++) {
        const loss = await e.step(batch, LRS[i]);
        const got = e.weights().get(KEY)!.data[0];
        assert.ok(Math.abs(loss - want[i].loss) < 1e-5, `${name}, ${engineName}, step ${i + 1}: loss ${loss} vs ${want[i].loss}`);
        assert.ok(Math.abs(got - want[i].w) < 1e-6, `${name}, ${engineName}, step ${i + 1}: w ${got} vs ${want[i].w}`);
      }
      const st = e.optimizerState();
      assert.is(st.get(optimizerStepKey(o))!.data[0], 3);
      optimizerSlots(o, KEY).forEach((slot, k) => assert.ok(Math.abs(st.get(slot)!.data[0] - want[2].slots[k]) < 1e-6, `${name}, ${engineName}: ${slot}`));
      states.push(st);
      e.dispose();
    }
    // the two engines' checkpoints name the same tensors
    assert.equal([...states[0].keys()].sort(), [...states[1].keys()].sort());
  }
});

test('AdamW shares Adam\'s checkpoint names (a run may resume under either); SGD with Nesterov shares SGD\'s', () => {
  assert.equal(optimizerSlots({ kind: 'adamw' }, KEY), optimizerSlots({ kind: 'adam' }, KEY));
  assert.is(optimizerStepKey({ kind: 'adamw' }), 'adam/step');
  assert.equal(optimizerSlots({ kind: 'sgd', nesterov: true }, KEY), ['sgd/momentum/head:kernel']);
  assert.is(optimizerStepKey({ kind: 'sgd', nesterov: true }), 'sgd/step');
});

test.run();
