// The TF.js executor against hand-computed values and a naive reference convolution, on the cpu
// and wasm backends: the semantics DESIGN.md fixes (symmetric padding, half-pixel resize,
// hsigmoid = relu6(x + 3) / 6, pooling padding rules).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compile } from '../src/frontend/compile.js';
import { loadTf, type TF } from '../src/runtime/backend.js';
import { initWeights, weightKey, type WeightStore } from '../src/ir/weights.js';
import { randomInput, runForm } from '../src/runtime/verify.js';
import { fsHost, memHost } from './helpers.js';

const graphOf = (input: string, graph: string, classes = 1) => {
  const r = compile('t.yaml', memHost({ 't.yaml': `alcli: 1\ninput: ${input}\noutput: {classes: ${classes}}\ngraph:\n${graph}\n` }));
  if (!r.compiled) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.compiled.graph;
};

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5) => {
  assert.is(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= tol)) assert.unreachable(`at ${i}: ${a[i]} vs ${b[i]}`);
};

/** Naive NHWC conv with symmetric padding, stride, dilation, groups: the reference for the kernel. */
function naiveConv(x: Float32Array, [n, h, w, c]: number[], k: Float32Array, [kh, kw, ci, co]: number[], s: number, d: number, p: number, groups: number): Float32Array {
  const oh = Math.floor((h + 2 * p - d * (kh - 1) - 1) / s) + 1;
  const ow = Math.floor((w + 2 * p - d * (kw - 1) - 1) / s) + 1;
  const out = new Float32Array(n * oh * ow * co);
  const cog = co / groups;
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let xo = 0; xo < ow; xo++)
        for (let o = 0; o < co; o++) {
          const g = Math.floor(o / cog);
          let acc = 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const yy = y * s - p + i * d;
              const xx = xo * s - p + j * d;
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              for (let q = 0; q < ci; q++) acc += x[((b * h + yy) * w + xx) * c + g * ci + q] * k[((i * kw + j) * ci + q) * co + o];
            }
          out[((b * oh + y) * ow + xo) * co + o] = acc;
        }
  return out;
}

const convCases: [string, string, { s: number; d: number; p: number; g: number; k: number }][] = [
  ['3x3', '{op: conv, in: input, out: 4, kernel: 3}', { s: 1, d: 1, p: 1, g: 1, k: 3 }],
  ['3x3 stride 2', '{op: conv, in: input, out: 4, kernel: 3, stride: 2}', { s: 2, d: 1, p: 1, g: 1, k: 3 }],
  ['3x3 dilation 2', '{op: conv, in: input, out: 4, kernel: 3, dilation: 2}', { s: 1, d: 2, p: 2, g: 1, k: 3 }],
  ['3x3 stride 2 dilation 2', '{op: conv, in: input, out: 4, kernel: 3, stride: 2, dilation: 2}', { s: 2, d: 2, p: 2, g: 1, k: 3 }],
  ['3x3 groups 2', '{op: conv, in: input, out: 4, kernel: 3, groups: 2}', { s: 1, d: 1, p: 1, g: 2, k: 3 }],
  ['3x3 depthwise', '{op: conv, in: input, out: 6, kernel: 3, groups: 6}', { s: 1, d: 1, p: 1, g: 6, k: 3 }],
  ['5x5 pad 0', '{op: conv, in: input, out: 4, kernel: 5, pad: 0}', { s: 1, d: 1, p: 0, g: 1, k: 5 }],
];

let tfs: { name: string; tf: TF }[] = [];
test.before(async () => {
  tfs = [{ name: 'wasm', tf: (await loadTf('wasm')).tf }];
});

for (const [name, call, o] of convCases) {
  test(`conv ${name} equals the naive reference`, async () => {
    const g = graphOf('{channels: 6, size: [10, 10]}', `  c: ${call}\n  head: {op: conv, in: c, out: 1, kernel: 1}`);
    const w = initWeights(g, 3);
    const cut = { ...g, nodes: g.nodes.slice(0, 1), output: { ...g.output, node: 'c' } };
    const shape: [number, number, number, number] = [2, 10, 10, 6];
    const x = randomInput(shape, 5);
    const k = w.get(weightKey('c', 'kernel'))!;
    const want = naiveConv(x, shape, k.data, k.shape, o.s, o.d, o.p, o.g);
    for (const { tf } of tfs) close(await runForm(tf, cut, w, x, shape), want, 1e-4);
  });
}

const set = (w: WeightStore, key: string, values: number[]) => w.set(key, { shape: w.get(key)!.shape, data: Float32Array.from(values) });

test('hsigmoid is relu6(x + 3) / 6, not 0.2x + 0.5', async () => {
  const g = graphOf('{channels: 1, size: [1, 6]}', '  h: {op: hsigmoid, in: input}');
  const x = Float32Array.from([-4, -3, -1, 0, 1.5, 4]);
  close(await runForm(tfs[0].tf, g, new Map(), x, [1, 1, 6, 1]), [0, 0, 2 / 6, 0.5, 4.5 / 6, 1]);
});

test('bilinear resize is half-pixel (align_corners=False)', async () => {
  const g = graphOf('{channels: 1, size: [1, 2]}', '  r: {op: resize, in: input, size: [1, 4]}');
  // PyTorch: F.interpolate([[0, 1]], size=4, mode="linear", align_corners=False) = [0, .25, .75, 1]
  close(await runForm(tfs[0].tf, g, new Map(), Float32Array.from([0, 1]), [1, 1, 2, 1]), [0, 0.25, 0.75, 1]);
});

test('maxpool padding never wins; avgpool counts zero padding', async () => {
  const x = Float32Array.from([-1, -2, -3, -4]);
  const mp = graphOf('{channels: 1, size: [2, 2]}', '  p: {op: maxpool, in: input, kernel: 3, stride: 1, pad: 1}');
  close(await runForm(tfs[0].tf, mp, new Map(), x, [1, 2, 2, 1]), [-1, -1, -1, -1]);
  const ap = graphOf('{channels: 1, size: [2, 2]}', '  p: {op: avgpool, in: input, kernel: 3, stride: 1, pad: 1}');
  close(await runForm(tfs[0].tf, ap, new Map(), x, [1, 2, 2, 1]), [-10 / 9, -10 / 9, -10 / 9, -10 / 9]);
});

test('conv_transpose 3x3/2, pad 1, output_pad 1 doubles the size like PyTorch', async () => {
  const g = graphOf('{channels: 1, size: [2, 2]}', '  t: {op: conv_transpose, in: input, out: 1, kernel: 3, stride: 2, pad: 1, output_pad: 1, bias: false}');
  const w = initWeights(g, 0);
  set(w, 't:kernel', [1, 1, 1, 1, 1, 1, 1, 1, 1]);
  // all-ones 3x3 kernel over [[1, 2], [3, 4]], stride 2: PyTorch gives this 4x4
  const want = [1, 3, 2, 2, 4, 10, 6, 6, 3, 7, 4, 4, 3, 7, 4, 4];
  close(await runForm(tfs[0].tf, g, w, Float32Array.from([1, 2, 3, 4]), [1, 2, 2, 1]), want);
});

test('BatchNorm in inference mode uses the running statistics and eps from the IR', async () => {
  const g = graphOf('{channels: 2, size: [1, 1]}', '  b: {op: bn, in: input, eps: 0.25}', 2);
  const w = initWeights(g, 0);
  set(w, 'b:gamma', [2, 1]);
  set(w, 'b:beta', [0, 1]);
  set(w, 'b:mean', [1, -1]);
  set(w, 'b:variance', [0.75, 3.75]);
  close(await runForm(tfs[0].tf, g, w, Float32Array.from([2, 1]), [1, 1, 1, 2]), [2 * (2 - 1) / 1, 1 + 2 / 2]);
});

test('a graph compiled at one size runs at another the stride divides, as if compiled there', async () => {
  const at = (n: number) => compile('architectures/alnet.yaml', fsHost, { size: [n, n] }).compiled!.graph;
  const small = at(64);
  const w = initWeights(small, 1);
  const shape: [number, number, number, number] = [1, 96, 96, 3];
  const x = randomInput(shape, 2);
  // alnet's head commutes a x16 resize past its 1x1 conv: its size must come from the tensor
  close(await runForm(tfs[0].tf, small, w, x, shape), await runForm(tfs[0].tf, at(96), w, x, shape), 1e-5);
});

// a kernel of several TF.js ops (BN unfused, concat+resize, attention) must not leave its temporaries:
// U-Net++ left ~1 GB per 512x512 image in wasm memory and slowed alcli export's checks 5-fold
// (CE-Net's RMP pools need a 6x6 bottleneck: 192 pixels)
for (const [spec, size] of [['unetpp', 64], ['cenet', 192], ['deeplabv3plus', 64], ['alnet', 64]] as const) {
  test(`inference on ${spec} leaves no tensor behind`, async () => {
    const g = compile(`architectures/${spec}.yaml`, fsHost, { size: [size, size] }).compiled!.graph;
    const shape: [number, number, number, number] = [1, size, size, g.input.channels];
    for (const { tf } of tfs) {
      const before = tf.memory().numTensors;
      await runForm(tf, g, initWeights(g, 1), randomInput(shape, 2), shape);
      assert.is(tf.memory().numTensors, before);
    }
  });
}

test.run();
