// The multi-class (softmax) loss and its gradients on both engines, for a tiny 3-class network
// (tinySpec's layers, 32x32, batch 2): the loss of the TF.js ops, of the float64 reference
// (objective.ts softmaxDiceValue) and of the compiled ONNX step agree; every weight's gradient of the
// ONNX step (hand-derived softmax rules) equals TF.js autodiff's, and both equal central finite
// differences of the float64 reference on the head's weights (where the loss is exact in float64);
// a few Adam steps agree on both engines. Then the 2-class softmax against the sigmoid it
// generalizes, PyTorch's weighted CE on numbers by hand, and the refusals of contract 1.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Tensor, Tensor4D, Variable } from '@tensorflow/tfjs';
import { compile } from '../src/frontend/compile.js';
import type { IrGraph } from '../src/ir/graph.js';
import { initWeights, randomizeBatchNorm, rng, weightSpecs, type WeightStore } from '../src/ir/weights.js';
import { loadTf } from '../src/runtime/backend.js';
import { forward } from '../src/runtime/executor.js';
import { randomInput } from '../src/runtime/verify.js';
import { lossTensor, TfjsEngine } from '../src/train/engine-tfjs.js';
import { BadOptionsError } from '../src/train/errors.js';
import { trainSettings } from '../src/train/loop.js';
import { bceDiceValue, lossOutputError, lossValue, oneHot, softmaxDiceValue, type LossWeights } from '../src/train/objective.js';
import { OrtEngine } from '../src/train/ort/engine.js';
import { trainingModel } from '../src/train/ort/training-model.js';
import { trainRun } from '../src/train/session.js';
import { syntheticDataset } from '../src/train/synthetic.js';
import { memHost, tinySpec, writeDataset } from './helpers.js';
import { ortStepGradients, worstRelative } from './step-helpers.js';

const { tf } = await loadTf('wasm');
const K = 3;
const SOFTMAX = { classes: K, activation: 'softmax' as const };

const softmaxSpec = (classes: number, activation = 'softmax') =>
  tinySpec({ epochs: 1, deep: false }).replace('output: {classes: 1}', `output: {classes: ${classes}, activation: ${activation}}`).replace('head: {op: conv, out: 1,', `head: {op: conv, out: ${classes},`);
const compileText = (text: string): IrGraph => {
  const r = compile('t.yaml', memHost({ 't.yaml': text }));
  if (!r.compiled) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.compiled.graph;
};
const G = compileText(softmaxSpec(K));
// the same network without its head: the head's input, for the float64 finite differences
const TAIL = compileText(softmaxSpec(K).replace(/output: \{[^}]*\}/, 'output: {classes: 8}').replace(/ {2}head: .*\n/, ''));

interface Problem {
  store: WeightStore;
  x: Float32Array;
  /** one-hot NHWK */
  y: Float32Array;
  shape: [number, number, number, number];
}

function problem(seed: number): Problem {
  const shape: [number, number, number, number] = [2, 32, 32, 1];
  const r = rng(seed);
  const store = new Map([...randomizeBatchNorm(G, initWeights(G, seed), seed + 1)].map(([k, t]) => [k, k.endsWith(':bias') ? { shape: t.shape, data: Float32Array.from(t.data, () => 0.3 * r.normal()) } : t]));
  const x = randomInput(shape, seed + 2);
  // labels that depend on the image a little, and all three classes in each image
  const labels = Float32Array.from({ length: 2 * 32 * 32 }, (_, i) => Math.min(K - 1, Math.max(0, Math.floor(1.5 + x[i] + 0.5 * r.normal()))));
  return { store, x, y: oneHot(labels, K), shape };
}

const trainable = weightSpecs(G).filter(({ spec }) => spec.role === 'trainable').map(({ node, spec }) => `${node.id}:${spec.name}`);
let variables = 0;

/** TF.js: logits (training mode), the loss and every trainable weight's gradient (tf.variableGrads). */
function tfjsRun(p: Problem, w: LossWeights): { logits: Float32Array; loss: number; grads: Map<string, Float32Array> } {
  const ws = new Map<string, Tensor>([...p.store].map(([k, t]) => [k, trainable.includes(k) ? tf.variable(tf.tensor(t.data, t.shape), true, `mc${variables++}`) : tf.tensor(t.data, t.shape)]));
  const x = tf.tensor4d(p.x, p.shape);
  const y = tf.tensor4d(p.y, [p.shape[0], p.shape[1], p.shape[2], K]);
  let logits = new Float32Array();
  const f = () => {
    const z = forward(tf, G, ws, x as Tensor4D, { training: true, dropout: false, inputGrad: false });
    logits = Float32Array.from(z.dataSync());
    return lossTensor(tf, z, y, SOFTMAX, w);
  };
  const { value, grads } = tf.variableGrads(f, trainable.map((k) => ws.get(k) as Variable));
  const out = new Map(trainable.map((k) => [k, Float32Array.from(grads[(ws.get(k) as Variable).name].dataSync())]));
  const loss = value.dataSync()[0];
  tf.dispose([...ws.values(), x, y, value, ...Object.values(grads)]);
  return { logits, loss, grads: out };
}

/** The head's input (TAIL's output, training mode) [pixels, 8]. */
const features = (p: Problem, store: WeightStore): Float32Array =>
  tf.tidy(() => Float32Array.from(forward(tf, TAIL, new Map([...store].map(([k, t]) => [k, tf.tensor(t.data, t.shape)])), tf.tensor4d(p.x, p.shape), { training: true, dropout: false }).dataSync()));

/** The compiled ONNX step (SGD at lr 0: nothing moves): its loss and every gradient, TF layout. */
const ortRun = (p: Problem, w: LossWeights) => ortStepGradients(trainingModel(G, { loss: w, optimizer: { kind: 'sgd' }, gradients: true }), p, K);


/** [name, loss weights] */
const WEIGHTS: [string, LossWeights][] = [
  ['ce + dice', { bce: 1, dice: 1 }],
  ['ce + dice, class weights', { bce: 1, dice: 1, classWeights: [0.2, 1, 3] }],
  ['0.5 ce + 2 dice, class weights', { bce: 0.5, dice: 2, classWeights: [1, 4, 0.5] }],
  ['ce only, class weights', { bce: 1, dice: 0, classWeights: [2, 1, 1] }],
  ['dice only', { bce: 0, dice: 1 }],
];

for (const [name, w] of WEIGHTS) {
  test(`3-class loss (${name}): TF.js ops, the float64 reference and the ONNX step agree to 1e-5; gradients of every weight to 1e-4`, async () => {
    const p = problem(11);
    const a = tfjsRun(p, w);
    const ref = softmaxDiceValue(a.logits, p.y, K, w, 2);
    const b = await ortRun(p, w);
    assert.ok(Math.abs(a.loss - ref) < 1e-5 * Math.max(1, ref), `TF.js ${a.loss} vs float64 ${ref}`);
    assert.ok(Math.abs(b.loss - ref) < 1e-5 * Math.max(1, ref), `ONNX ${b.loss} vs float64 ${ref}`);
    assert.is(b.grads.size, trainable.length);
    const d = worstRelative(b.grads, a.grads);
    assert.ok(d.worst < 1e-4, `ONNX vs TF.js gradients: ${d.worst.toExponential(2)} at ${d.where}`);
  });
}

// The head is a 1x1 conv with bias on features F: logits = F W + b is exact in float64, so the finite
// differences of the float64 loss there check the loss's gradient with no fp32 noise (eps 1e-4,
// truncation ~1e-8). Deeper weights go through the fp32 network, whose finite differences are noisy
// at this tolerance (measured on c1:kernel: 1e-3..1e-2 of the largest entry, ReLU kinks and fp32
// rounding); there the two engines' agreement above and gradients.test.ts (the executor against
// finite differences, op by op) do the checking.
test('gradients against central finite differences of the float64 loss: every entry of the head kernel and bias', async () => {
  const w: LossWeights = { bce: 1, dice: 1, classWeights: [0.5, 2, 1] };
  const p = problem(21);
  const a = tfjsRun(p, w);
  const b = await ortRun(p, w);
  const F = features(p, p.store);
  const C = 8;
  const pixels = F.length / C;
  const kernel = Float64Array.from(p.store.get('head:kernel')!.data);
  const bias = Float64Array.from(p.store.get('head:bias')!.data);
  /** the head in float64 on features f [pixels, C] */
  const headLogits = (f: ArrayLike<number>) => {
    const z = new Float64Array(pixels * K);
    for (let i = 0; i < pixels; i++)
      for (let k = 0; k < K; k++) {
        let s = bias[k];
        for (let c = 0; c < C; c++) s += f[i * C + c] * kernel[c * K + k];
        z[i * K + k] = s;
      }
    return z;
  };
  const loss = () => lossValue(headLogits(F), p.y, SOFTMAX, w, 2);
  const fd = (v: Float64Array, i: number, eps: number) => {
    const v0 = v[i];
    v[i] = v0 + eps;
    const up = loss();
    v[i] = v0 - eps;
    const down = loss();
    v[i] = v0;
    return (up - down) / (2 * eps);
  };
  const numeric = new Map<string, Float64Array>([
    ['head:kernel', Float64Array.from(kernel, (_, i) => fd(kernel, i, 1e-4))],
    ['head:bias', Float64Array.from(bias, (_, i) => fd(bias, i, 1e-4))],
  ]);
  for (const [engine, grads] of [['TF.js', a.grads], ['ONNX', b.grads]] as const) {
    const d = worstRelative(new Map([...numeric.keys()].map((k) => [k, grads.get(k)!])), numeric);
    assert.ok(d.worst < 1e-4, `${engine} vs finite differences: ${d.worst.toExponential(2)} at ${d.where}`);
  }

});

test('a few Adam steps on a 3-class network: the loss curves of the two engines within 1e-4', async () => {
  const w: LossWeights = { bce: 1, dice: 1, classWeights: [0.5, 1, 2] };
  const store = initWeights(G, 4);
  const opts = { optimizer: { kind: 'adam' as const }, loss: w };
  const a = new TfjsEngine(tf, G, store, opts);
  const b = await OrtEngine.create(G, store, opts, 1);
  const curves: [number, number][] = [];
  const p = problem(100);
  const batch = { x: p.x, y: p.y, shape: p.shape };
  for (let s = 0; s < 5; s++) {
    curves.push([await a.step(batch, 1e-3), await b.step(batch, 1e-3)]);
  }
  a.dispose();
  b.dispose();
  for (const [s, [la, lb]] of curves.entries()) assert.ok(Math.abs(la - lb) < 1e-4, `step ${s + 1}: TF.js ${la}, ORT ${lb}`);
  assert.ok(curves.at(-1)![0] < curves[0][0], `the loss falls: ${curves.map((c) => c[0].toFixed(4)).join(' ')}`);
});

test('2-class softmax of logits (0, z) is the sigmoid loss of z; class weights (1, 1) change nothing', () => {
  const r = rng(5);
  const z = Array.from({ length: 32 }, () => 3 * r.normal());
  const y = z.map((v) => (v + r.normal() > 0 ? 1 : 0));
  const pairs = z.flatMap((v) => [0, v]);
  const targets = oneHot(y, 2);
  for (const w of [{ bce: 1, dice: 1 }, { bce: 0.3, dice: 2 }]) {
    const sigmoid = bceDiceValue(z, y, w, 2);
    assert.ok(Math.abs(softmaxDiceValue(pairs, targets, 2, w, 2) - sigmoid) < 1e-12, `${JSON.stringify(w)}`);
    assert.ok(Math.abs(softmaxDiceValue(pairs, targets, 2, { ...w, classWeights: [1, 1] }, 2) - sigmoid) < 1e-12);
    assert.ok(Math.abs(lossValue(pairs, targets, { classes: 2, activation: 'softmax' }, w, 2) - sigmoid) < 1e-12);
  }
});

test('class weights: the CE is the weighted mean of -log p_y (PyTorch CrossEntropyLoss)', () => {
  // two pixels, 2 classes, no Dice: -(w_0 log p_0(px0) + w_1 log p_1(px1)) / (w_0 + w_1)
  const z = [1, -1, 0.5, 2];
  const y = oneHot([0, 1], 2);
  const lsm = (a: number, b: number) => a - Math.log(Math.exp(a) + Math.exp(b));
  const want = -(2 * lsm(1, -1) + 5 * lsm(2, 0.5)) / 7;
  assert.ok(Math.abs(softmaxDiceValue(z, y, 2, { bce: 1, dice: 0, classWeights: [2, 5] }) - want) < 1e-12);
});

/** [output, loss weights, the refusal (a regex), or undefined: trains] */
const OUTPUTS: [string, { classes: number; activation: 'sigmoid' | 'softmax' | 'none' }, LossWeights, RegExp | undefined][] = [
  ['binary sigmoid', { classes: 1, activation: 'sigmoid' }, { bce: 1, dice: 1 }, undefined],
  ['binary, no activation', { classes: 1, activation: 'none' }, { bce: 1, dice: 1 }, undefined],
  ['3-class softmax', { classes: 3, activation: 'softmax' }, { bce: 1, dice: 1, classWeights: [1, 2, 3] }, undefined],
  ['2-class softmax', { classes: 2, activation: 'softmax' }, { bce: 1, dice: 1 }, undefined],
  ['sigmoid, 3 classes', { classes: 3, activation: 'sigmoid' }, { bce: 1, dice: 1 }, /3 classes with a sigmoid.*write output: \{classes: 3, activation: softmax\}/],
  ['no activation, 4 classes', { classes: 4, activation: 'none' }, { bce: 1, dice: 1 }, /4 classes with no activation.*activation: softmax/],
  ['softmax, 1 class', { classes: 1, activation: 'softmax' }, { bce: 1, dice: 1 }, /constant 1.*output: \{classes: 1\}.*\{classes: 2, activation: softmax\}/],
  ['class weights on a sigmoid', { classes: 1, activation: 'sigmoid' }, { bce: 1, dice: 1, classWeights: [1, 2] }, /class_weights.*softmax/],
  ['2 class weights, 3 classes', { classes: 3, activation: 'softmax' }, { bce: 1, dice: 1, classWeights: [1, 2] }, /has 2 weights, the network has 3 classes/],
  ['a zero class weight', { classes: 2, activation: 'softmax' }, { bce: 1, dice: 1, classWeights: [0, 1] }, /> 0/],
];

for (const [name, output, w, refusal] of OUTPUTS) {
  test(`output and loss: ${name} ${refusal ? 'is refused' : 'trains'}`, () => {
    const e = lossOutputError(output, w);
    if (!refusal) assert.is(e, undefined);
    else assert.match(e ?? '', refusal);
  });
}

test('the engines refuse a sigmoid with 3 classes (BadOptionsError), and train.loss.ce is bce', () => {
  const g = compileText(softmaxSpec(3, 'sigmoid'));
  const opts = { optimizer: { kind: 'adam' as const }, loss: { bce: 1, dice: 1 } };
  assert.throws(() => trainingModel(g, opts), (e: unknown) => e instanceof BadOptionsError && /activation: softmax/.test(e.message));
  assert.throws(() => new TfjsEngine(tf, g, initWeights(g, 0), opts), (e: unknown) => e instanceof BadOptionsError);
  assert.equal(trainSettings({ loss: { ce: 0.5, class_weights: [1, 2] } }).loss, { bce: 0.5, dice: 1, classWeights: [1, 2] });
  assert.throws(() => trainSettings({ loss: { ce: 0.5, bce: 1 } }), (e: unknown) => e instanceof BadOptionsError && /alias/.test(e.message));
  assert.throws(() => trainSettings({ loss: { class_weights: [1, -1] } }), (e: unknown) => e instanceof BadOptionsError && /class_weights/.test(e.message));
});

test('train refuses a 3-class sigmoid spec before writing anything, and says what to write', async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'alcli-mc-'));
  try {
    const spec = join(scratch, 's.yaml');
    writeFileSync(spec, softmaxSpec(3, 'sigmoid'));
    const data = join(scratch, 'data');
    await writeDataset(data, syntheticDataset(1, { count: 4, size: 32, channels: 1 }));
    const out = join(scratch, 'run');
    try {
      await trainRun({ spec, data, out, engine: 'ort' });
      assert.unreachable('trained');
    } catch (e) {
      assert.instance(e, BadOptionsError);
      assert.match((e as Error).message, /write output: \{classes: 3, activation: softmax\}/);
    }
    assert.not.ok(existsSync(out), 'the run folder was written');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test.run();
