// Training gradients through the executor (training mode) on the wasm backend, with the hand-written
// kernels of src/runtime/gradients.ts: for every op with inputs or parameters, the gradient of
// L = sum(output * R) (R fixed random) w.r.t. the input and every trainable weight equals
// (a) central finite differences of the same forward (eps 3e-3: at 1e-2 the relu kinks of a whole
//     network cost up to 16 %; fp32 forward, loss summed in float64), on a sample of coordinates, and
// (b) where TF.js's own gradient is right, the cpu backend's stock autodiff, on every coordinate.
// Resize is checked by (a) only, and a test shows TF.js's stock half-pixel gradient is wrong, so a
// regression to it cannot pass unnoticed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs';
import { compile } from '../src/frontend/compile.js';
import type { IrGraph } from '../src/ir/graph.js';
import { OP_KINDS } from '../src/ir/ops.js';
import { loadTf, type TF } from '../src/runtime/backend.js';
import { forward } from '../src/runtime/executor.js';
import { GRAD_OPTIONS } from '../src/runtime/gradients.js';
import { interpolationMatrix } from '../src/ir/interpolation.js';
import { randomInput } from '../src/runtime/verify.js';
import { initWeights, randomizeBatchNorm, rng, weightSpecs, type WeightStore } from '../src/ir/weights.js';
import { fsHost } from './helpers.js';

const graphOf = (input: string, graph: string, classes: number, modules = '', imports = '') => {
  const text = `alcli: 1\n${imports}input: ${input}\noutput: {classes: ${classes}}\n${modules}graph:\n${graph}\n`;
  const host = { read: (p: string) => (p === 'architectures/t.yaml' ? text : fsHost.read(p)) };
  const r = compile('architectures/t.yaml', host);
  if (!r.compiled) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.compiled.graph;
};

type Shape4 = [number, number, number, number];

interface Problem {
  g: IrGraph;
  store: WeightStore;
  trainable: string[];
  x: Float32Array;
  shape: Shape4;
  r: Float32Array;
  outShape: Shape4;
}

/** `feed`: run at another input size than the spec's (the compiler asks for sizes that divide by the network stride; floor effects need the others) */
function problem(tf: TF, g: IrGraph, n: number, seed: number, feed?: [number, number]): Problem {
  const input = g.input;
  const shape: Shape4 = [n, ...(feed ?? input.size), input.channels];
  let store = randomizeBatchNorm(g, initWeights(g, seed), seed + 1);
  // non-zero biases, so a bias gradient path is exercised with a non-trivial forward
  const r0 = rng(seed + 2);
  store = new Map([...store].map(([k, t]) => [k, k.endsWith(':bias') ? { shape: t.shape, data: Float32Array.from(t.data, () => 0.1 * r0.normal()) } : t]));
  const trainable = weightSpecs(g)
    .filter(({ spec }) => spec.role === 'trainable')
    .map(({ node, spec }) => `${node.id}:${spec.name}`);
  const x = randomInput(shape, seed + 4);
  const outShape = tf.tidy(() => {
    const w = new Map<string, Tensor>([...store].map(([k, t]) => [k, tf.tensor(t.data, t.shape)]));
    return forward(tf, g, w, tf.tensor4d(x, shape), { training: true, dropout: false }).shape as Shape4;
  });
  const rr = rng(seed + 3);
  const r = Float32Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, () => rr.normal());
  return { g, store, trainable, x, shape, r, outShape };
}

/** The gradients of L w.r.t. [input, ...trainable] through the executor's training mode. */
function analytic(tf: TF, p: Problem): Float32Array[] {
  const out: Float32Array[] = [];
  tf.tidy(() => {
    const consts = new Map<string, Tensor>();
    for (const [k, t] of p.store) if (!p.trainable.includes(k)) consts.set(k, tf.tensor(t.data, t.shape));
    const xs = [tf.tensor4d(p.x, p.shape), ...p.trainable.map((k) => tf.tensor(p.store.get(k)!.data, p.store.get(k)!.shape))];
    const r = tf.tensor4d(p.r, p.outShape);
    const f = (...ts: Tensor[]) => {
      const w = new Map(consts);
      p.trainable.forEach((k, i) => w.set(k, ts[i + 1]));
      return tf.sum(tf.mul(forward(tf, p.g, w, ts[0] as Tensor4D, { training: true, dropout: false }), r));
    };
    for (const gr of tf.grads(f)(xs)) out.push(Float32Array.from(gr.dataSync()));
  });
  return out;
}

/** L in float64 from the fp32 forward, with tensor `which` (0: input) replaced by `values`. */
function loss(tf: TF, p: Problem, which: number, values: Float32Array): number {
  return tf.tidy(() => {
    const w = new Map<string, Tensor>();
    for (const [k, t] of p.store) w.set(k, tf.tensor(which > 0 && k === p.trainable[which - 1] ? values : t.data, t.shape));
    const y = forward(tf, p.g, w, tf.tensor4d(which === 0 ? values : p.x, p.shape), { training: true, dropout: false }).dataSync();
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * p.r[i];
    return s;
  });
}

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const names = (p: Problem) => ['input', ...p.trainable];

/**
 * Worst error of the analytic gradient against central differences over a sample of coordinates
 * (the largest gradient entries and random ones), relative to the tensor's largest gradient.
 */
function finiteDifferenceError(tf: TF, p: Problem, grads: Float32Array[], samples = 6, eps = 3e-3): { worst: number; where: string } {
  let worst = 0;
  let where = '';
  const r = rng(99);
  const tensors = [p.x, ...p.trainable.map((k) => p.store.get(k)!.data)];
  tensors.forEach((base, t) => {
    const g = grads[t];
    const scale = maxAbs(g);
    const order = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]));
    const picks = new Set([...order.slice(0, 2), ...Array.from({ length: samples }, () => Math.floor(r.uniform() * g.length))]);
    for (const i of picks) {
      const v = Float32Array.from(base);
      v[i] = base[i] + eps;
      const up = loss(tf, p, t, v);
      v[i] = base[i] - eps;
      const down = loss(tf, p, t, v);
      const fd = (up - down) / (2 * eps);
      const err = Math.abs(fd - g[i]) / Math.max(scale, 1e-3);
      if (err > worst) [worst, where] = [err, `${names(p)[t]}[${i}]: analytic ${g[i]}, finite difference ${fd}`];
    }
  });
  return { worst, where };
}

let wasm: TF;
const onBackend = async <T>(name: 'wasm' | 'cpu', fn: () => T): Promise<T> => {
  await wasm.setBackend(name);
  try {
    return fn();
  } finally {
    await wasm.setBackend('wasm');
  }
};

/** The cpu backend's stock autodiff (TF.js's own kernels and gradients) on the same problem. */
async function stockCpu(p: Problem): Promise<Float32Array[]> {
  GRAD_OPTIONS.custom = false;
  try {
    return await onBackend('cpu', () => analytic(wasm, p));
  } finally {
    GRAD_OPTIONS.custom = true;
  }
}

function relativeDiff(a: Float32Array[], b: Float32Array[]): { worst: number; where: string } {
  let worst = 0;
  let where = '';
  a.forEach((x, t) => {
    const scale = Math.max(maxAbs(b[t]), 1e-6);
    for (let i = 0; i < x.length; i++) {
      const e = Math.abs(x[i] - b[t][i]) / scale;
      if (e > worst) [worst, where] = [e, `tensor ${t}[${i}]: ${x[i]} vs ${b[t][i]}`];
    }
  });
  return { worst, where };
}

test.before(async () => {
  wasm = (await loadTf('wasm')).tf;
  assert.is(wasm.getBackend(), 'wasm');
});

/** [name, input, graph, classes, batch, checks] — `stock: false` where TF.js's own gradient is wrong (resize). */
type Case = [string, string, string, number, { n?: number; stock?: boolean; feed?: [number, number]; modules?: string; imports?: string }?];
const IN = (c: number, h: number, w = h) => `{channels: ${c}, size: [${h}, ${w}]}`;
const cases: Case[] = [
  ['conv 3x3 + bias', IN(3, 6), '  c: {op: conv, in: input, out: 4, kernel: 3, bias: true}', 4],
  ['conv 3x3 stride 2, odd size', IN(3, 8), '  c: {op: conv, in: input, out: 4, kernel: 3, stride: 2}', 4, { feed: [7, 7] }],
  ['conv 3x3 stride 2, even size', IN(3, 8), '  c: {op: conv, in: input, out: 4, kernel: 3, stride: 2}', 4],
  ['conv 1x1', IN(5, 5), '  c: {op: conv, in: input, out: 3, kernel: 1}', 3],
  ['conv 1x1 stride 2', IN(5, 6), '  c: {op: conv, in: input, out: 3, kernel: 1, stride: 2}', 3],
  ['conv 1x1 stride 2, odd size', IN(5, 6), '  c: {op: conv, in: input, out: 3, kernel: 1, stride: 2}', 3, { feed: [5, 7] }],
  // TF.js has no gradient for dilated convs at all: finite differences only
  ['conv 3x3 dilation 2', IN(3, 7), '  c: {op: conv, in: input, out: 4, kernel: 3, dilation: 2}', 4, { stock: false }],
  ['conv 3x3 stride 2 dilation 2', IN(3, 8), '  c: {op: conv, in: input, out: 4, kernel: 3, stride: 2, dilation: 2}', 4, { stock: false, feed: [9, 9] }],
  ['conv 3x3 depthwise dilation 2', IN(4, 7), '  c: {op: conv, in: input, out: 4, kernel: 3, groups: 4, dilation: 2}', 4, { stock: false }],
  ['conv 3x3 groups 2', IN(4, 6), '  c: {op: conv, in: input, out: 6, kernel: 3, groups: 2}', 6],
  ['conv 3x3 depthwise', IN(4, 6), '  c: {op: conv, in: input, out: 4, kernel: 3, groups: 4}', 4],
  ['conv 3x3 depthwise stride 2, odd size', IN(4, 8), '  c: {op: conv, in: input, out: 4, kernel: 3, groups: 4, stride: 2}', 4, { feed: [7, 7] }],
  ['conv 3x3 groups 2 stride 2', IN(4, 6), '  c: {op: conv, in: input, out: 4, kernel: 3, groups: 2, stride: 2}', 4],
  ['conv 5x5 pad 0', IN(2, 7), '  c: {op: conv, in: input, out: 3, kernel: 5, pad: 0}', 3],
  ['conv 3x1 pad [1, 0], stride [2, 1]', IN(2, 6, 5), '  c: {op: conv, in: input, out: 3, kernel: [3, 1], pad: [1, 0], stride: [2, 1]}', 3],
  ['conv 3x3 stride 3', IN(2, 6), '  c: {op: conv, in: input, out: 3, kernel: 3, stride: 3}', 3, { feed: [8, 7] }],
  ['conv 3x3 pad 2 (wider than centred)', IN(2, 5), '  c: {op: conv, in: input, out: 3, kernel: 3, pad: 2}', 3],
  ['conv_transpose 3x3/2 pad 1 output_pad 1', IN(3, 4), '  t: {op: conv_transpose, in: input, out: 2, kernel: 3, stride: 2, pad: 1, output_pad: 1}', 2],
  ['conv_transpose 2x2/2', IN(3, 4), '  t: {op: conv_transpose, in: input, out: 2, kernel: 2, stride: 2}', 2],
  ['bn (batch statistics)', IN(3, 5), '  b: {op: bn, in: input}', 3, { n: 3 }],
  ['relu', IN(2, 4), '  a: {op: relu, in: input}', 2],
  ['relu6', IN(2, 4), '  a: {op: relu6, in: input}', 2],
  ['sigmoid', IN(2, 4), '  a: {op: sigmoid, in: input}', 2],
  ['hsigmoid', IN(2, 4), '  a: {op: hsigmoid, in: input}', 2],
  ['add', IN(2, 4), '  a: {op: conv, in: input, out: 2, kernel: 1}\n  s: {op: add, in: [input, a]}', 2],
  ['mul (1x1 broadcast)', IN(2, 4), '  p: {op: global_avgpool, in: input}\n  m: {op: mul, in: [input, p]}', 2],
  ['concat', IN(2, 4), '  a: {op: conv, in: input, out: 3, kernel: 1}\n  c: {op: concat, in: [input, a]}', 5],
  ['resize bilinear x2', IN(2, 3, 4), '  r: {op: resize, in: input, scale: 2}', 2, { stock: false }],
  ['resize bilinear x3', IN(2, 3), '  r: {op: resize, in: input, scale: 3}', 2, { stock: false }],
  ['resize bilinear x16', IN(1, 2), '  r: {op: resize, in: input, scale: 16}', 1, { stock: false }],
  ['resize bilinear to a size (non-integer ratio)', IN(2, 3, 4), '  r: {op: resize, in: input, size: [7, 5]}', 2, { stock: false }],
  ['resize bilinear down (size)', IN(2, 7, 6), '  r: {op: resize, in: input, size: [3, 4]}', 2, { stock: false }],
  ['resize like', IN(2, 6), '  d: {op: maxpool, in: input, kernel: 2}\n  r: {op: resize, in: d, like: input}', 2, { stock: false }],
  ['resize nearest x2', IN(2, 3), '  r: {op: resize, in: input, scale: 2, mode: nearest}', 2, { stock: false }],
  ['resize nearest to a size', IN(2, 3, 4), '  r: {op: resize, in: input, size: [7, 5], mode: nearest}', 2, { stock: false }],
  ['maxpool 3/2 pad 1', IN(2, 6), '  p: {op: maxpool, in: input, kernel: 3, stride: 2, pad: 1}', 2, { feed: [5, 5] }],
  ['avgpool 2', IN(2, 6), '  p: {op: avgpool, in: input, kernel: 2}', 2],
  ['avgpool 3/1 pad 1', IN(2, 5), '  p: {op: avgpool, in: input, kernel: 3, stride: 1, pad: 1}', 2],
  ['global_avgpool', IN(3, 4), '  p: {op: global_avgpool, in: input}', 3],
  ['dropout (units kept)', IN(2, 4), '  d: {op: dropout, in: input, rate: 0.5}', 2],
  ['identity', IN(2, 4), '  i: {op: identity, in: input}', 2],
  // whole networks
  ['RepVGG block (3x3 + 1x1 + identity BN, relu)', IN(4, 6), '  b: {op: repvgg_block, in: input, out: 4}', 4, { imports: 'imports: [lib/repvgg.yaml]\n' }],
  ['RepVGG stage (stride 2, then stride 1)', IN(3, 8), '  s: {op: repvgg_stage, in: input, out: 4, depth: 2}', 4, { imports: 'imports: [lib/repvgg.yaml]\n' }],
  [
    'A-Decoder step (x2 upsample, concat, CBR) over an encoder',
    IN(3, 8),
    '  e1: {op: conv, in: input, out: 4, kernel: 3, stride: 2}\n  e1b: {op: bn}\n  e1r: {op: relu}\n  e2: {op: conv, out: 6, kernel: 3, stride: 2}\n  f: {op: a_fuse, in: [e1r, e2], out: 4}\n  up: {op: resize, scale: 2}\n  head: {op: conv, out: 1, kernel: 1, bias: true}',
    1,
    { stock: false, imports: 'imports: [lib/adecoder.yaml]\n' },
  ],
  [
    "AL-Net's head (concat of a x4 upsample into a 1x1 conv: the conv runs before the resize)",
    IN(3, 8),
    '  a: {op: conv, in: input, out: 3, kernel: 3, stride: 4}\n  u: {op: resize, in: a, scale: 4}\n  c: {op: concat, in: [input, u]}\n  h: {op: conv, out: 2, kernel: 1, bias: true}',
    2,
    { stock: false },
  ],
  ['Lite R-ASPP (global pool, hsigmoid gate, mul)', IN(4, 4), '  l: {op: lraspp, in: input, out: 3}', 3, { imports: 'imports: [lib/lraspp.yaml]\n' }],
];

const covered = new Set<string>();
for (const [name, input, graph, classes, o = {}] of cases) {
  test(`gradient: ${name}`, async () => {
    const g = graphOf(input, graph, classes, o.modules, o.imports);
    for (const nd of g.nodes) covered.add(nd.op);
    const p = problem(wasm, g, o.n ?? 2, 7, o.feed);
    const ours = analytic(wasm, p);
    for (const [t, gr] of ours.entries()) if (!gr.every(Number.isFinite)) assert.unreachable(`${names(p)[t]}: not finite`);
    const fd = finiteDifferenceError(wasm, p, ours);
    assert.ok(fd.worst < 1e-2, `finite differences: ${fd.worst.toExponential(2)} at ${fd.where}`);
    if (o.stock !== false) {
      const ref = await stockCpu(p);
      const d = relativeDiff(ours, ref);
      assert.ok(d.worst < 1e-4, `against the cpu backend's autodiff: ${d.worst.toExponential(2)} at ${d.where}`);
    }
  });
}

// the alternative paths bench/train.ts measures (slower on wasm, kept correct)
const variants: [string, Partial<typeof GRAD_OPTIONS>][] = [
  ['im2col filter gradient', { filterGrad: 'im2col', im2colMaxFloats: 200 }],
  ['conv2dTranspose input gradient', { stridedInputGrad: 'transpose' }],
];
for (const [label, opts] of variants)
  for (const [name, input, graph, classes, o = {}] of cases.filter(([n]) => /^conv (3x3 stride 2, odd|5x5|3x3 stride 3|3x1|1x1 stride 2, odd)/.test(n))) {
    test(`gradient (${label}): ${name}`, async () => {
      const saved = { ...GRAD_OPTIONS };
      const p = problem(wasm, graphOf(input, graph, classes), 2, 11, o.feed);
      Object.assign(GRAD_OPTIONS, opts);
      let ours: Float32Array[];
      try {
        ours = analytic(wasm, p);
      } finally {
        Object.assign(GRAD_OPTIONS, saved);
      }
      const d = relativeDiff(ours, await stockCpu(p));
      assert.ok(d.worst < 1e-4, `against the cpu backend's autodiff: ${d.worst.toExponential(2)} at ${d.where}`);
    });
  }

test('every op of the registry is covered', () => {
  assert.equal(
    OP_KINDS.filter((k) => !covered.has(k)),
    [],
  );
});

// bilinear: wrong on every backend; nearest x2: right on wasm, wrong on cpu (its ResizeNearestNeighborGrad)
for (const [mode, backend] of [['bilinear', 'wasm'], ['bilinear', 'cpu'], ['nearest', 'cpu']] as const)
  test(`TF.js's stock half-pixel ${mode} resize gradient is wrong on ${backend} (so ours is needed)`, async () => {
    // square: on a non-square input the cpu backend's stock bilinear gradient even throws (shape bug)
    const g = graphOf(IN(2, 4), `  r: {op: resize, in: input, scale: 2, mode: ${mode}}`, 2);
    const p = problem(wasm, g, 2, 3);
    const ours = analytic(wasm, p);
    assert.ok(finiteDifferenceError(wasm, p, ours).worst < 1e-2);
    GRAD_OPTIONS.custom = false;
    let stock: Float32Array[];
    try {
      stock = await onBackend(backend, () => analytic(wasm, p));
    } finally {
      GRAD_OPTIONS.custom = true;
    }
    // the stock gradient misses by tens of percent; a test against it would fail
    assert.ok(relativeDiff(stock, ours).worst > 0.1, 'the stock gradient now matches: TF.js fixed it, and the custom resize gradient may be dropped');
  });

test('the transposed interpolation matches the forward (adjoint identity <A x, y> = <x, A^T y>)', () => {
  // the forward is TF.js's kernel, the backward our matrix or conv: both must describe one operator
  for (const [h, oh, mode] of [[3, 6, 'bilinear'], [4, 7, 'bilinear'], [5, 3, 'bilinear'], [3, 7, 'nearest']] as const) {
    const a = interpolationMatrix(h, oh, mode);
    const x = randomInput([1, 1, h, 1], 1);
    const want = wasm.tidy(() => wasm.image[mode === 'nearest' ? 'resizeNearestNeighbor' : 'resizeBilinear'](wasm.tensor4d(x, [1, 1, h, 1]), [1, oh], false, true).dataSync());
    for (let o = 0; o < oh; o++) {
      let s = 0;
      for (let i = 0; i < h; i++) s += a[o * h + i] * x[i];
      assert.ok(Math.abs(s - want[o]) < 1e-5, `${mode} ${h}->${oh} at ${o}: ${s} vs ${want[o]}`);
    }
  }
});

test('training-mode forward values are unchanged by the custom kernels', async () => {
  const g = graphOf(IN(3, 8), '  e1: {op: conv, in: input, out: 4, kernel: 3, stride: 2}\n  b: {op: bn}\n  r: {op: relu}\n  d: {op: conv, out: 4, kernel: 3, groups: 4}\n  u: {op: resize, scale: 2}\n  head: {op: conv, out: 1, kernel: 1, bias: true}', 1);
  const p = problem(wasm, g, 2, 5);
  const run = () => wasm.tidy(() => {
    const w = new Map<string, Tensor>([...p.store].map(([k, t]) => [k, wasm.tensor(t.data, t.shape)]));
    return Float32Array.from(forward(wasm, g, w, wasm.tensor4d(p.x, p.shape), { training: true }).dataSync());
  });
  const ours = run();
  GRAD_OPTIONS.custom = false;
  let stock: Float32Array;
  try {
    stock = run();
  } finally {
    GRAD_OPTIONS.custom = true;
  }
  const scale = maxAbs(stock);
  for (let i = 0; i < ours.length; i++) assert.ok(Math.abs(ours[i] - stock[i]) <= 1e-5 * Math.max(1, scale), `at ${i}: ${ours[i]} vs ${stock[i]}`);
});

test('inputGrad: false leaves every weight gradient as it was, and holds no tensor past the step', async () => {
  const g = graphOf(IN(3, 8), '  s: {op: repvgg_stage, in: input, out: 4, depth: 2}\n  u: {op: resize, scale: 2}\n  head: {op: conv, out: 1, kernel: 1, bias: true}', 1, '', 'imports: [lib/repvgg.yaml]\n');
  const p = problem(wasm, g, 2, 13);
  const grads = (inputGrad: boolean) => {
    const out: Float32Array[] = [];
    wasm.tidy(() => {
      const consts = new Map<string, Tensor>([...p.store].filter(([k]) => !p.trainable.includes(k)).map(([k, t]) => [k, wasm.tensor(t.data, t.shape)]));
      const ws = p.trainable.map((k) => wasm.tensor(p.store.get(k)!.data, p.store.get(k)!.shape));
      const x = wasm.tensor4d(p.x, p.shape);
      const r = wasm.tensor4d(p.r, p.outShape);
      const f = (...ts: Tensor[]) => wasm.sum(wasm.mul(forward(wasm, g, new Map([...consts, ...p.trainable.map((k, i) => [k, ts[i]] as const)]), x, { training: true, dropout: false, inputGrad }), r));
      for (const gr of wasm.grads(f)(ws)) out.push(Float32Array.from(gr.dataSync()));
    });
    return out;
  };
  const before = wasm.memory().numTensors;
  const skipped = grads(false);
  assert.is(wasm.memory().numTensors, before, 'tensors left after a step');
  const d = relativeDiff(skipped, grads(true));
  assert.ok(d.worst < 1e-6, `${d.worst} at ${d.where}`);
});

test.run();
