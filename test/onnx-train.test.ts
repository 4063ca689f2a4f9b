// The compiled ONNX training step (src/train/ort/training-model.ts) in ONNX Runtime against the TF.js
// engine's gradients (executor training mode, hand-written gradients checked in gradients.test.ts
// against finite differences): for every op with a rule, in small graphs, the loss and every
// weight's gradient; the running statistics; then the ORT engine's steps against the TF.js
// engine's on AL-Net-shaped networks, and onnx.checker on the emitted models.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Tensor, Tensor4D, Variable } from '@tensorflow/tfjs';
import { compile } from '../src/frontend/compile.js';
import { trainingModel } from '../src/train/ort/training-model.js';
import type { IrGraph } from '../src/ir/graph.js';
import { resizeGraph } from '../src/ir/resize-graph.js';
import { loadTf } from '../src/runtime/backend.js';
import { forward } from '../src/runtime/executor.js';
import { randomInput } from '../src/runtime/verify.js';
import { initWeights, randomizeBatchNorm, rng, weightSpecs, type WeightStore } from '../src/ir/weights.js';
import { TfjsEngine } from '../src/train/engine-tfjs.js';
import { OrtEngine } from '../src/train/ort/engine.js';
import { bceDiceLoss } from '../src/train/engine-tfjs.js';
import { DEFAULT_LOSS } from '../src/train/objective.js';
import { fsHost } from './helpers.js';
import { ortStepGradients, worstRelative } from './step-helpers.js';

const { tf } = await loadTf('wasm');
const checked = new Map<string, Uint8Array>();

const graphOf = (input: string, graph: string, imports = '') => {
  const text = `alcli: 1\n${imports}input: ${input}\noutput: {classes: 1}\ngraph:\n${graph}\n`;
  const r = compile('architectures/t.yaml', { read: (p: string) => (p === 'architectures/t.yaml' ? text : fsHost.read(p)) });
  if (!r.compiled) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.compiled.graph;
};

interface Problem {
  g: IrGraph;
  store: WeightStore;
  x: Float32Array;
  y: Float32Array;
  shape: [number, number, number, number];
}

function problem(g: IrGraph, n: number, seed: number): Problem {
  const shape: [number, number, number, number] = [n, g.input.size[0], g.input.size[1], g.input.channels];
  let store = randomizeBatchNorm(g, initWeights(g, seed), seed + 1);
  const r = rng(seed + 2);
  store = new Map([...store].map(([k, t]) => [k, k.endsWith(':bias') ? { shape: t.shape, data: Float32Array.from(t.data, () => 0.1 * r.normal()) } : t]));
  const x = randomInput(shape, seed + 3);
  const y = Float32Array.from({ length: n * shape[1] * shape[2] }, () => (r.uniform() > 0.6 ? 1 : 0));
  return { g, store, x, y, shape };
}

/** Loss and gradients (TF layout) from the TF.js executor's training mode. */
function tfjsGradients(p: Problem): { loss: number; grads: Map<string, Float32Array> } {
  const trainable = weightSpecs(p.g).filter(({ spec }) => spec.role === 'trainable').map(({ node, spec }) => `${node.id}:${spec.name}`);
  const w = new Map<string, Tensor>([...p.store].map(([k, t]) => [k, trainable.includes(k) ? tf.variable(tf.tensor(t.data, t.shape), true, `${k}#${variables++}`) : tf.tensor(t.data, t.shape)]));
  const x = tf.tensor4d(p.x, p.shape);
  const y = tf.tensor4d(p.y, [p.shape[0], p.shape[1], p.shape[2], 1]);
  const { value, grads } = tf.variableGrads(() => bceDiceLoss(tf, forward(tf, p.g, w, x as Tensor4D, { training: true, dropout: false, inputGrad: false }), y), trainable.map((k) => w.get(k) as Variable));
  const out = new Map(trainable.map((k) => [k, Float32Array.from(grads[(w.get(k) as Variable).name].dataSync())]));
  const loss = value.dataSync()[0];
  tf.dispose([...w.values(), x, y, value, ...Object.values(grads)]);
  return { loss, grads: out };
}
let variables = 0;

/** Loss and gradients (TF layout) from the compiled step in ONNX Runtime (SGD at lr 0: nothing moves). */
async function ortGradients(p: Problem): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  const model = trainingModel(p.g, { loss: DEFAULT_LOSS, optimizer: { kind: 'sgd' }, gradients: true });
  checked.set(`${p.g.name}-${checked.size}`, model.bytes);
  return ortStepGradients(model, p);
}


const IN = (c: number, h: number, w = h) => `{channels: ${c}, size: [${h}, ${w}]}`;
/** [name, input, graph lines, imports, run at this size instead] */
const cases: [string, string, string, string?, [number, number]?][] = [
  ['conv 3x3 + bias', IN(3, 8), '  c: {op: conv, in: input, out: 4, kernel: 3}\n  h: {op: conv, out: 1, kernel: 3, bias: true}'],
  ['conv 3x3 stride 2, odd size', IN(3, 10), '  a: {op: conv, in: input, out: 4, kernel: 1}\n  c: {op: conv, out: 4, kernel: 3, stride: 2}\n  u: {op: resize, like: input}\n  h: {op: conv, out: 1, kernel: 1, bias: true}', '', [9, 9]],
  ['conv 1x1 stride 2', IN(3, 8), '  a: {op: conv, in: input, out: 4, kernel: 1}\n  c: {op: conv, out: 4, kernel: 1, stride: 2}\n  u: {op: resize, scale: 2}\n  h: {op: conv, out: 1, kernel: 1, bias: true}'],
  ['conv 3x3 dilation 2, 5x5 pad 0, resize to a size', IN(3, 10), '  a: {op: conv, in: input, out: 4, kernel: 3, dilation: 2}\n  c: {op: conv, out: 4, kernel: 5, pad: 0}\n  u: {op: resize, size: [10, 10]}\n  h: {op: conv, out: 1, kernel: 1, bias: true}'],
  ['conv to fewer channels (the columns of dy): 3x3, dilation 2, 5x5 pad 0', IN(3, 8), '  a: {op: conv, in: input, out: 6, kernel: 3}\n  b: {op: conv, out: 2, kernel: 3}\n  c: {op: conv, in: a, out: 3, kernel: 3, dilation: 2}\n  d: {op: conv, in: a, out: 2, kernel: 5, pad: 0}\n  u: {op: resize, in: d, like: input}\n  k: {op: concat, in: [b, c, u]}\n  h: {op: conv, out: 1, kernel: 1, bias: true}'],
  ['large kernels in row chunks: 7x7, 5x5 groups 2, 11x1', IN(3, 12), '  a: {op: conv, in: input, out: 4, kernel: 7}\n  b: {op: conv, out: 4, kernel: 5, groups: 2}\n  c: {op: conv, out: 4, kernel: [11, 1]}\n  h: {op: conv, out: 1, kernel: 1, bias: true}'],
  ['large kernels, strided and dilated, in row chunks: 7x7/2 odd size, 5x5 dilation 2 groups 4 (dx as grouped Conv)', IN(4, 13), '  a: {op: conv, in: input, out: 8, kernel: 7, stride: 2}\n  b: {op: conv, out: 8, kernel: 5, dilation: 2, groups: 4}\n  u: {op: resize, like: input}\n  h: {op: conv, out: 1, kernel: 1, bias: true}'],
  ['bn (batch statistics) + relu', IN(3, 6), '  a: {op: conv, in: input, out: 4, kernel: 3}\n  b: {op: bn}\n  r: {op: relu}\n  h: {op: conv, out: 1, kernel: 1, bias: true}'],
  ['relu6, hsigmoid, sigmoid', IN(3, 6), '  a: {op: conv, in: input, out: 4, kernel: 3}\n  r: {op: relu6}\n  s: {op: hsigmoid}\n  t: {op: conv, out: 4, kernel: 1}\n  u: {op: sigmoid}\n  h: {op: conv, out: 1, kernel: 1, bias: true}'],
  ['add (3 inputs), concat', IN(3, 6), '  a: {op: conv, in: input, out: 4, kernel: 3}\n  b: {op: conv, in: a, out: 4, kernel: 1}\n  c: {op: conv, in: a, out: 4, kernel: 3}\n  s: {op: add, in: [a, b, c]}\n  k: {op: concat, in: [s, b]}\n  h: {op: conv, out: 1, kernel: 1, bias: true}'],
  ['resize bilinear x2, x4, nearest, global pool gate (mul)', IN(3, 8), '  a: {op: conv, in: input, out: 4, kernel: 3, stride: 4}\n  u: {op: resize, scale: 4}\n  p: {op: global_avgpool, in: u}\n  m: {op: mul, in: [u, p]}\n  d: {op: conv, in: m, out: 4, kernel: 3, stride: 2}\n  v: {op: resize, scale: 2, mode: nearest}\n  w: {op: resize, in: d, scale: 2}\n  s: {op: add, in: [v, w]}\n  h: {op: conv, out: 1, kernel: 1, bias: true}'],
  ['conv 3x3 groups 2, depthwise 3x3, depthwise stride 2', IN(4, 8), '  a: {op: conv, in: input, out: 6, kernel: 3, groups: 2}\n  d: {op: conv, out: 6, kernel: 3, groups: 6}\n  e: {op: conv, out: 6, kernel: 3, groups: 6, stride: 2}\n  u: {op: resize, scale: 2}\n  h: {op: conv, out: 1, kernel: 1, bias: true}'],
  ['conv_transpose 3x3/2 pad 1 output_pad 1, 2x2/2 + bias', IN(3, 8), '  a: {op: conv, in: input, out: 4, kernel: 3, stride: 4}\n  t: {op: conv_transpose, out: 4, kernel: 3, stride: 2, pad: 1, output_pad: 1}\n  v: {op: conv_transpose, out: 3, kernel: 2, stride: 2, bias: true}\n  h: {op: conv, out: 1, kernel: 1, bias: true}'],
  ['maxpool 3/2 pad 1, odd size', IN(3, 10), '  a: {op: conv, in: input, out: 4, kernel: 3}\n  p: {op: maxpool, kernel: 3, stride: 2, pad: 1}\n  u: {op: resize, like: input}\n  h: {op: conv, out: 1, kernel: 1, bias: true}', '', [9, 9]],
  ['maxpool 2, avgpool 3/1 pad 1, avgpool 2', IN(3, 8), '  a: {op: conv, in: input, out: 4, kernel: 3}\n  p: {op: maxpool, kernel: 2}\n  q: {op: avgpool, kernel: 3, stride: 1, pad: 1}\n  r: {op: avgpool, kernel: 2}\n  u: {op: resize, scale: 4}\n  h: {op: conv, out: 1, kernel: 1, bias: true}'],
  ['RepVGG stage + Lite R-ASPP + A-Decoder step (AL-Net in small)', IN(3, 16), '  e1: {op: repvgg_stage, in: input, out: 4, depth: 2}\n  e2: {op: repvgg_stage, out: 6, depth: 2}\n  c: {op: lraspp, in: e2, out: 4}\n  f: {op: a_fuse, in: [e1, c], out: 4}\n  up: {op: resize, scale: 2}\n  h: {op: conv, out: 1, kernel: 1, bias: true}', 'imports: [lib/repvgg.yaml, lib/lraspp.yaml, lib/adecoder.yaml]\n'],
];

for (const [name, input, graph, imports, feed] of cases) {
  test(`training graph gradient: ${name}`, async () => {
    const g = graphOf(input, graph, imports);
    const p = problem(feed ? resizeGraph(g, feed) : g, 2, 5);
    const ref = tfjsGradients(p);
    const got = await ortGradients(p);
    assert.ok(Math.abs(got.loss - ref.loss) <= 1e-5 * Math.max(1, Math.abs(ref.loss)), `loss ${got.loss} vs ${ref.loss}`);
    const d = worstRelative(got.grads, ref.grads);
    assert.ok(d.worst < 1e-4, `gradients: ${d.worst.toExponential(2)} at ${d.where}`);
  });
}

test('dropout drops: a new mask each step, finite gradients', async () => {
  const g = graphOf(IN(3, 8), '  a: {op: conv, in: input, out: 16, kernel: 3}\n  d: {op: dropout, rate: 0.5}\n  h: {op: conv, out: 1, kernel: 1, bias: true}');
  const p = problem(g, 2, 4);
  const one = await ortGradients(p);
  const two = await ortGradients(p);
  const k = 'a:kernel';
  assert.ok(one.grads.get(k)!.every(Number.isFinite) && Number.isFinite(one.loss));
  assert.not.equal(Array.from(one.grads.get('h:kernel')!), Array.from(two.grads.get('h:kernel')!), 'the same mask twice');
});

test('every op has a training-graph rule: every spec in architectures/ compiles to a training step', () => {
  for (const f of readdirSync('architectures').filter((n) => n.endsWith('.yaml'))) {
    const g = compile(`architectures/${f}`, fsHost).compiled!.graph;
    const m = trainingModel(g, { loss: DEFAULT_LOSS, optimizer: { kind: 'adam' } });
    assert.is(m.tensors.filter((t) => !t.key.startsWith('adam/')).length, weightSpecs(g).length, f);
  }
});

test('the ORT engine and the TF.js engine take the same Adam steps (loss curves within 1e-3, weights and BN statistics after)', async () => {
  const g = graphOf(IN(3, 16), cases.at(-1)![2], cases.at(-1)![3]);
  const store = initWeights(g, 3);
  const opts = { optimizer: { kind: 'adam' as const }, loss: DEFAULT_LOSS };
  const a = new TfjsEngine(tf, g, store, opts);
  const b = await OrtEngine.create(g, store, opts, 1);
  const r = rng(8);
  const la: number[] = [];
  const lb: number[] = [];
  for (let s = 0; s < 8; s++) {
    const shape: [number, number, number, number] = [2, 16, 16, 3];
    const batch = { x: randomInput(shape, 100 + s), y: Float32Array.from({ length: 2 * 16 * 16 }, () => (r.uniform() > 0.5 ? 1 : 0)), shape };
    la.push(await a.step(batch, 5e-3));
    lb.push(await b.step(batch, 5e-3));
  }
  for (let s = 0; s < la.length; s++) assert.ok(Math.abs(la[s] - lb[s]) < 1e-3, `step ${s + 1}: TF.js ${la[s]}, ORT ${lb[s]}`);
  const wa = a.weights();
  const wb = b.weights();
  const d = worstRelative(new Map([...wb].map(([k, t]) => [k, t.data])), new Map([...wa].map(([k, t]) => [k, t.data])));
  assert.ok(d.worst < 1e-3, `weights after 8 steps: ${d.worst.toExponential(2)} at ${d.where}`);
  // a checkpoint of one engine loads into the other
  b.load(wa, a.optimizerState());
  assert.is(b.optimizerState().get('adam/step')!.data[0], 8);
  const x = randomInput([1, 16, 16, 3], 9);
  const ya = await a.infer(x, [1, 16, 16, 3]);
  const yb = await b.infer(x, [1, 16, 16, 3]);
  assert.ok(ya.every((v, i) => Math.abs(v - yb[i]) < 1e-4 * Math.max(1, Math.abs(v))), 'inference after loading the TF.js checkpoint');
  a.dispose();
  b.dispose();
});

// Six steps, not twenty: this network's training is chaotic at test sizes. Measured with SGD at
// lr 1e-3 (128x128, batch 4): the two engines agree to 1e-5 for 5 steps, 3e-4 at step 7, then part
// (1.5e-2 by step 20), and TF.js on wasm against TF.js on cpu (the same code, other kernels) part
// as fast; at 64x64, batch 2, both pairs part by step 4. Adam parts sooner still: its first steps
// move each weight by +-lr whatever the gradient's size, so float noise in near-zero entries flips
// whole steps.
test('alnet.yaml at 128x128: 6 SGD steps from the same weights and batches, loss curves of the two engines within 1e-4', async () => {
  const [S, B] = [128, 4];
  const g = compile('architectures/alnet.yaml', fsHost, { size: [S, S] }).compiled!.graph;
  const store = initWeights(g, 1);
  const opts = { optimizer: { kind: 'sgd' as const, momentum: 0.9 }, loss: DEFAULT_LOSS };
  const a = new TfjsEngine(tf, g, store, opts);
  const b = await OrtEngine.create(g, store, opts, 2);
  let worst = 0;
  for (let s = 0; s < 6; s++) {
    const r = rng(100 + s);
    const shape: [number, number, number, number] = [B, S, S, 3];
    const x = randomInput(shape, 200 + s);
    const batch = { x, y: Float32Array.from({ length: B * S * S }, (_, i) => (x[i * 3] + 0.3 * r.normal() > 0 ? 1 : 0)), shape };
    const la = await a.step(batch, 1e-3);
    const lb = await b.step(batch, 1e-3);
    worst = Math.max(worst, Math.abs(la - lb));
  }
  assert.ok(worst < 1e-4, `loss curves differ by up to ${worst}`);
  a.dispose();
  b.dispose();
});

test('onnx.checker.check_model(full_check=True) accepts the training graphs', () => {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { encoding: 'utf8' });
  if (probe.status !== 0) assert.unreachable(`python3-onnx is required for this test: apt-get install -y python3-onnx (${(probe.stderr || String(probe.error)).trim().split('\n').at(-1)})`);
  const alnet = compile('architectures/alnet.yaml', fsHost, { size: [64, 64] }).compiled!.graph;
  checked.set('alnet-train', trainingModel(alnet, { loss: DEFAULT_LOSS, optimizer: { kind: 'adam' } }).bytes);
  const dir = mkdtempSync(join(tmpdir(), 'alcli-train-onnx-'));
  try {
    for (const [name, bytes] of checked) writeFileSync(join(dir, `${name.replace(/\W/g, '_')}.onnx`), bytes);
    const script = ['import onnx, os, sys', 'for f in sorted(os.listdir(sys.argv[1])):', '    onnx.checker.check_model(onnx.load(os.path.join(sys.argv[1], f)), full_check=True)'].join('\n');
    const r = spawnSync('/usr/bin/python3', ['-c', script, dir], { encoding: 'utf8' });
    assert.is(r.status, 0, `onnx.checker rejected:\n${r.stdout}${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
