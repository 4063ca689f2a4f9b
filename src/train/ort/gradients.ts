// The ONNX gradient of every op (NCHW), keyed by OpKind so an op without one is a type error
// (STYLE.md 1). A rule gets the forward's tensor names and the gradient of the node's output, and
// emits the gradients of its data inputs and of its trainable weights. The same rules as the TF.js
// engine's hand-written gradients (src/runtime/gradients.ts); test/onnx-train.test.ts checks each
// one against them.
// Measured on this machine (PERF-NOTES.md, ONNX Runtime 1.30, 2 threads): the input gradient of a
// stride-1 conv, grouped or not, runs 1.5-2.8x faster as a Conv with the flipped, transposed kernel
// than as a ConvTranspose, which wins for strides (PyConvU-Net's 9x9 convs in 16 groups: ConvTranspose
// took 3.2 s of a 16 s step); the filter gradient as in-graph im2col and a batched MatMul
// beats the batch/channel-swapped Conv at every shape. The im2col is one Conv with one-hot kernels
// (not k*k Slices and a Concat, and no kernel-sized Transposes after): with it an AL-Net step at
// 256x256, batch 4 ran 1.12-1.33x faster (interleaved A/B steps, 2-vCPU AMD EPYC; README, Training).
import type { IrNode, Shape } from '../../ir/graph.js';
import { padOf, type OpKind } from '../../ir/ops.js';
import { interpolationMatrix } from '../../ir/interpolation.js';
import type { OnnxBuilder } from '../../emit/onnx-builder.js';
import { float, int, ints, str } from '../../emit/onnx-ops.js';

export class OnnxGradError extends Error {}

export interface GradContext {
  b: OnnxBuilder;
  node: IrNode;
  /** forward tensor names of the data inputs, and their IR shapes */
  inputs: string[];
  inShapes: Shape[];
  /** the forward output and its IR shape */
  output: string;
  outShape: Shape;
  /** the gradient of the output */
  dy: string;
  /** which data inputs need a gradient (not the network input) */
  needs: boolean[];
  /** the node's weight as a graph input, ONNX layout (conv: OIHW) */
  weight(name: string): string;
  /** tensors the training forward of this node kept (bn: centred input, 1/std, scale) */
  saved: Record<string, string>;
  /** the batch size as a float scalar, read from the input at run time */
  batch: string;
}

export interface GradResult {
  /** per data input: its gradient, or undefined where none was asked for */
  inputs: (string | undefined)[];
  /** per trainable weight name (kernel, bias, gamma, beta) */
  weights?: Record<string, string>;
}

export type GradRule = (ctx: GradContext) => GradResult;

const pair = (v: unknown) => [...(v as readonly number[])] as [number, number];
const NCHW_SPATIAL = [0, 2, 3];


/**
 * The kernel rotated 180 degrees in space with in/out swapped within each group: OIHW
 * [O, C / g, kh, kw] -> [C, O / g, kh, kw], the kernel of the conv from dy back to x.
 */
function flippedTransposed(b: OnnxBuilder, w: string, [o, c]: [number, number], [kh, kw]: [number, number], groups: number): string {
  const flipped = b.op('Slice', [w, b.i64([-1, -1]), b.i64([-(kh + 1), -(kw + 1)]), b.i64([2, 3]), b.i64([-1, -1])]);
  if (groups === 1) return b.transpose(flipped, [1, 0, 2, 3]);
  const perGroup = b.transpose(b.reshape(flipped, [groups, o / groups, c / groups, kh, kw]), [0, 2, 1, 3, 4]);
  return b.reshape(perGroup, [c, o / groups, kh, kw]);
}

function convGrad(ctx: GradContext): GradResult {
  const { b, node, dy } = ctx;
  const a = node.attrs;
  const groups = a.groups as number;
  const k = pair(a.kernel);
  const s = pair(a.stride);
  const d = pair(a.dilation);
  const [ph, pw] = padOf(a);
  const [x] = ctx.inputs;
  const { c, h, w } = ctx.inShapes[0];
  const { c: o, h: oh, w: ow } = ctx.outShape;
  const kernel = ctx.weight('kernel');
  let dx: string | undefined;
  if (ctx.needs[0]) {
    const reach = [d[0] * (k[0] - 1), d[1] * (k[1] - 1)];
    if (s[0] === 1 && s[1] === 1 && reach[0] >= ph && reach[1] >= pw) {
      const q = [reach[0] - ph, reach[1] - pw];
      dx = b.op('Conv', [dy, flippedTransposed(b, kernel, [o, c], k, groups)], { kernel_shape: ints(k), dilations: ints(d), pads: ints([q[0], q[1], q[0], q[1]]), group: int(groups) }, 'dx');
    } else {
      // the rows the forward's floor dropped come back as output_padding
      const outPad = [h - (s[0] * (oh - 1) + reach[0] + 1 - 2 * ph), w - (s[1] * (ow - 1) + reach[1] + 1 - 2 * pw)];
      // ONNX's ConvTranspose weight is [C_in, C_out / group, kh, kw]: the conv's own [O, C / g, kh, kw]
      dx = b.op('ConvTranspose', [dy, kernel], { kernel_shape: ints(k), strides: ints(s), dilations: ints(d), pads: ints([ph, pw, ph, pw]), output_padding: ints(outPad), group: int(groups) }, 'dx');
    }
  }
  const kernelGrad = filterGradient(b, x, dy, [c, h, w], [o, oh, ow], { k, s, d, pad: [ph, pw] }, groups);
  const weights: Record<string, string> = { kernel: kernelGrad };
  if (a.bias) weights.bias = b.sum(dy, NCHW_SPATIAL, false);
  return { inputs: [dx], weights };
}

interface ConvGeometry {
  k: [number, number];
  s: [number, number];
  d: [number, number];
  pad: [number, number];
}

/**
 * The conv's input at every kernel tap, [N, C * kh * kw, oh * ow] (row c * kh * kw + tap), by one
 * Conv of each input channel alone with a one-hot kernel per tap: ONNX Runtime writes the columns
 * once, at any stride and dilation, where Slices per tap and their Concat copied the input twice.
 * `flipped`: tap (i, j) reads kernel position (kh-1-i, kw-1-j) (dy's columns, filterGradient).
 * `rows` [first, count]: only the taps of those kernel rows (large kernels, in chunks).
 */
function im2col(b: OnnxBuilder, x: string, [c, h, w]: number[], [oh, ow]: number[], { k, s, d, pad: [ph, pw] }: ConvGeometry, flipped = false, rows: [number, number] = [0, k[0]]): string {
  const all = k[0] * k[1];
  const taps = rows[1] * k[1];
  if (all === 1 && !ph && !pw) {
    // a 1x1 kernel's only tap is the input itself (every s-th pixel where strided)
    const x1 = s[0] === 1 && s[1] === 1 ? x : b.op('Slice', [x, b.i64([0, 0]), b.i64([(oh - 1) * s[0] + 1, (ow - 1) * s[1] + 1]), b.i64([2, 3]), b.i64(s)], undefined, 'tap');
    return b.reshape(x1, [-1, c, oh * ow]);
  }
  // the kernel spans only the chunk's rows; the input rows they read, [y0, y1), are sliced or padded
  // to match, so a 9x9 kernel's row costs 9 MACs per column value, not 81
  // (flipped, the chunk's taps read the kernel rows mirrored: [kh - r0 - kr, kh - r0))
  const [r0, kr] = rows;
  const top = flipped ? k[0] - r0 - kr : r0;
  const y0 = top * d[0] - ph;
  const y1 = (oh - 1) * s[0] + (top + kr - 1) * d[0] - ph + 1;
  const inRows = y0 > 0 || y1 < h ? b.op('Slice', [x, b.i64([Math.max(0, y0)]), b.i64([Math.min(h, y1)]), b.i64([2])], undefined, 'rows') : x;
  const oneHot = new Float32Array(taps * taps);
  for (let t = 0; t < taps; t++) oneHot[t * taps + (flipped ? taps - 1 - t : t)] = 1;
  const kernel = b.once(`im2col:${kr}x${k[1]}:${flipped}`, () => b.tensor('im2col', [taps, 1, kr, k[1]], oneHot));
  const pads = [Math.max(0, -y0), pw, Math.max(0, y1 - h), pw];
  const cols = b.op('Conv', [b.reshape(inRows, [-1, 1, Math.min(h, y1) - Math.max(0, y0), w]), kernel], { kernel_shape: ints([kr, k[1]]), strides: ints(s), dilations: ints(d), pads: ints(pads) }, 'im2col');
  return b.reshape(cols, [-1, c * taps, oh * ow]);
}

/**
 * dL/dkernel of a conv with `groups` groups, OIHW [O, C / groups, kh, kw]: per group, dy [N, O/g, P]
 * times x's columns^T [N, P, (C/g) kh kw] (one batched MatMul), summed over N; the result is
 * already OIHW. A dense stride-1 conv with fewer output than input channels takes the columns of
 * dy instead (3x fewer to write for a 96 -> 32 conv): dW[o, c, i, j] = sum_q x[c, q] dy[o, q + pad
 * - (i, j) d], dy's columns with padding (k - 1) d - pad and the taps flipped, times x^T, then a
 * kernel-sized Transpose [O, taps, C] -> [O, C, taps].
 */
function filterGradient(b: OnnxBuilder, x: string, dy: string, [c, h, w]: number[], [o, oh, ow]: number[], geometry: ConvGeometry, groups = 1): string {
  const { k, s, d, pad } = geometry;
  const taps = k[0] * k[1];
  const padDy: [number, number] = [(k[0] - 1) * d[0] - pad[0], (k[1] - 1) * d[1] - pad[1]];
  if (groups === 1 && o < c && taps > 1 && taps <= MAX_CHUNK_TAPS && s[0] === 1 && s[1] === 1 && padDy[0] >= 0 && padDy[1] >= 0) {
    const cols = im2col(b, dy, [o, oh, ow], [h, w], { k, s, d, pad: padDy }, true); // [N, O taps, H W]
    const dw = b.sum(b.op('MatMul', [cols, b.transpose(b.reshape(x, [-1, c, h * w]), [0, 2, 1])]), [0], false); // [O taps, C]
    return b.reshape(b.transpose(b.reshape(dw, [o, taps, c]), [0, 2, 1]), [o, c, k[0], k[1]]);
  }
  const p = oh * ow;
  const dyG = b.reshape(dy, [-1, groups, o / groups, p]);
  // kernel rows in chunks of at most MAX_CHUNK_TAPS taps: a 9x9 kernel's columns whole would be 81
  // copies of the input (5 GB for one PyConvU-Net layer at 256x256, batch 4)
  const perChunk = taps <= MAX_CHUNK_TAPS ? k[0] : Math.max(1, Math.floor(MAX_CHUNK_TAPS / k[1]));
  const parts: string[] = [];
  for (let r0 = 0; r0 < k[0]; r0 += perChunk) {
    const rows = Math.min(perChunk, k[0] - r0);
    const cols = b.reshape(im2col(b, x, [c, h, w], [oh, ow], geometry, false, [r0, rows]), [-1, groups, (c / groups) * rows * k[1], p]);
    const dw = b.op('MatMul', [dyG, b.transpose(cols, [0, 1, 3, 2])]);
    parts.push(b.reshape(b.sum(dw, [0], false), [o, c / groups, rows, k[1]]));
  }
  return parts.length === 1 ? parts[0] : b.op('Concat', parts, { axis: int(2) });
}

/** The most kernel taps whose columns are built at once (a 3x3 kernel's). */
const MAX_CHUNK_TAPS = 9;

export interface TrainForwardContext {
  b: OnnxBuilder;
  node: IrNode;
  inputs: string[];
  /** the node's weight (graph input) by name */
  weight(name: string): string;
  /** the batch size as a float scalar */
  batch: string;
  /** writes the next value of one of the node's state tensors (BN running statistics) */
  setState(name: string, value: string): void;
}

/** The output, and what the gradient rule will read (GradContext.saved). */
export type TrainForward = (ctx: TrainForwardContext) => { y: string; saved: Record<string, string> };

/** A float zero vector [c] (BatchNormalization's mean where its input is centred already). */
const zerosOf = (b: OnnxBuilder, c: number) => b.once(`zeros:${c}`, () => b.tensor('zeros', [c], new Float32Array(c)));

/**
 * BatchNorm in training mode: batch statistics over N, H, W; the running averages as PyTorch keeps
 * them (momentum from the node, the unbiased batch variance, n = N * H * W). The variance is
 * two-pass (mean of xc^2, xc = x - mean) as before, and y is one inference-mode
 * BatchNormalization node with those statistics: two full-size writes (xc, y) where Sub, Mul, Mul
 * and Add took four. Kept for the gradient: xc, rstd, scale.
 */
function bnTrainForward({ b, node, inputs: [x], weight, batch, setState }: TrainForwardContext) {
  const { c, h, w } = node.shape;
  const eps = node.attrs.eps as number;
  const mean = b.mean(x, NCHW_SPATIAL);
  const xc = b.sub(x, mean);
  const count = b.mul(batch, b.scalar(h * w));
  const variance = b.mean(b.mul(xc, xc), NCHW_SPATIAL);
  const rstd = b.op('Reciprocal', [b.op('Sqrt', [b.add(variance, b.scalar(eps))])]);
  const scale = b.mul(b.reshape(weight('gamma'), [1, c, 1, 1]), rstd);
  const y = b.op('BatchNormalization', [xc, weight('gamma'), weight('beta'), zerosOf(b, c), b.reshape(variance, [-1])], { epsilon: float(eps) }, 'bn');
  const m = (node.attrs.momentum as number | undefined) ?? 0.1;
  const unbias = b.div(count, b.sub(count, b.scalar(1)));
  const ema = (name: string, stat: string) => setState(name, b.add(b.mul(weight(name), b.scalar(1 - m)), b.mul(b.reshape(stat, [-1]), b.scalar(m))));
  ema('mean', mean);
  ema('variance', b.mul(variance, unbias));
  return { y, saved: { xc, rstd, scale } };
}

/** Max pool keeping its argmax (ONNX's Indices: flat positions in the whole unpadded input). */
function maxPoolTrainForward({ b, node, inputs: [x] }: TrainForwardContext) {
  const a = node.attrs;
  const [y, indices] = b.opN('MaxPool', [x], 2, { kernel_shape: ints(pair(a.kernel)), strides: ints(pair(a.stride)), pads: ints([...pair(a.pad), ...pair(a.pad)]) }, 'maxpool');
  return { y, saved: { indices } };
}

/** Dropout in training mode: ONNX Dropout's mask, scaled by 1 / (1 - rate) as the output is. */
function dropoutTrainForward({ b, node, inputs: [x] }: TrainForwardContext): { y: string; saved: Record<string, string> } {
  const rate = node.attrs.rate as number;
  if (!(rate > 0)) return { y: x, saved: {} };
  const [y, mask] = b.opN('Dropout', [x, b.scalar(rate), b.boolean(true)], 2, undefined, 'dropout');
  return { y, saved: { mask, scale: b.scalar(1 / (1 - rate)) } };
}

/** Ops whose training forward is not their inference lowering (onnx-ops.ts). */
export const TRAIN_FORWARD: Partial<Record<OpKind, TrainForward>> = {
  bn: bnTrainForward,
  maxpool: maxPoolTrainForward,
  dropout: dropoutTrainForward,
};

/**
 * dx = scale (dy - mean(dy) - xc rstd^2 mean(dy xc)); dgamma = sum(dy xc) rstd; dbeta = sum dy.
 * Written as dx = scale dy + (a xc + b) with per-channel a = -scale rstd^2 mean(dy xc) and
 * b = -scale mean(dy), the bracket one inference-mode BatchNormalization (mean 0, variance 1,
 * epsilon 0): three full-size writes where five were.
 */
function bnGrad(ctx: GradContext): GradResult {
  const { b, dy } = ctx;
  const { xc, rstd, scale } = ctx.saved;
  const { h, w } = ctx.inShapes[0];
  const count = b.mul(ctx.batch, b.scalar(h * w));
  const sumDy = b.sum(dy, NCHW_SPATIAL);
  const sumDyXc = b.sum(b.mul(dy, xc), NCHW_SPATIAL);
  let dx: string | undefined;
  if (ctx.needs[0]) {
    const c = ctx.inShapes[0].c;
    const negScale = b.op('Neg', [scale]);
    const a = b.reshape(b.mul(negScale, b.mul(b.mul(rstd, rstd), b.div(sumDyXc, count))), [-1]);
    const shift = b.reshape(b.mul(negScale, b.div(sumDy, count)), [-1]);
    const affine = b.op('BatchNormalization', [xc, a, shift, zerosOf(b, c), b.once(`ones:${c}`, () => b.tensor('ones', [c], new Float32Array(c).fill(1)))], { epsilon: float(0) }, 'bn_grad');
    dx = b.add(b.mul(dy, scale), affine);
  }
  return {
    inputs: [dx],
    weights: { gamma: b.reshape(b.mul(sumDyXc, rstd), [-1]), beta: b.reshape(sumDy, [-1]) },
  };
}

/** dy masked where the forward's input lies in (lo, hi]. */
const masked = (ctx: GradContext, lo: number, hi: number | undefined, scale = 1): GradResult => {
  const { b } = ctx;
  const [x] = ctx.inputs;
  let mask = b.op('Greater', [x, b.scalar(lo)]);
  if (hi !== undefined) mask = b.op('And', [mask, b.op('LessOrEqual', [x, b.scalar(hi)])]);
  return { inputs: [b.where(mask, scale === 1 ? ctx.dy : b.mul(ctx.dy, b.scalar(scale)))] };
};

/** Sums a broadcast operand's gradient back to its own shape. */
function unbroadcast(ctx: GradContext, g: string, shape: Shape): string {
  const out = ctx.outShape;
  const axes = [shape.c === out.c ? -1 : 1, shape.h === out.h ? -1 : 2, shape.w === out.w ? -1 : 3].filter((a) => a >= 0);
  return axes.length ? ctx.b.sum(g, axes) : g;
}

/** The transposed interpolation, one axis at a time: dx = A_h^T dy A_w (constant matrices). */
function resizeGrad(ctx: GradContext): GradResult {
  const { b } = ctx;
  const mode = ctx.node.attrs.mode === 'nearest' ? 'nearest' : 'bilinear';
  const { h, w } = ctx.inShapes[0];
  const { h: oh, w: ow } = ctx.outShape;
  let g = ctx.dy;
  if (ow !== w) g = b.op('MatMul', [g, b.tensor('resize_w', [ow, w], interpolationMatrix(w, ow, mode))]);
  if (oh !== h) {
    const a = interpolationMatrix(h, oh, mode); // [oh, h]
    const at = new Float32Array(h * oh);
    for (let i = 0; i < oh; i++) for (let j = 0; j < h; j++) at[j * oh + i] = a[i * h + j];
    g = b.op('MatMul', [b.tensor('resize_h', [h, oh], at), g]);
  }
  return { inputs: [g] };
}

/**
 * conv_transpose is the input gradient of a conv with the same weights [Cin, Cout, kh, kw]: its own
 * input gradient is that conv applied to dy, and its weight gradient that conv's filter gradient
 * with dy as the conv's input and x as its output gradient.
 */
function convTransposeGrad(ctx: GradContext): GradResult {
  const { b, dy } = ctx;
  const a = ctx.node.attrs;
  const k = pair(a.kernel);
  const s = pair(a.stride);
  const p = pair(a.pad);
  const [x] = ctx.inputs;
  const { c, h, w } = ctx.inShapes[0];
  const { c: o, h: oh, w: ow } = ctx.outShape;
  const kernel = ctx.weight('kernel');
  const dx = ctx.needs[0] ? b.op('Conv', [dy, kernel], { kernel_shape: ints(k), strides: ints(s), pads: ints([p[0], p[1], p[0], p[1]]) }, 'dx') : undefined;
  // ConvTranspose's weight [Cin, Cout, kh, kw] is the OIHW kernel of the conv from dy (Cout) to x (Cin)
  const weights: Record<string, string> = { kernel: filterGradient(b, dy, x, [o, oh, ow], [c, h, w], { k, s, d: [1, 1], pad: p }) };
  if (a.bias) weights.bias = b.sum(dy, NCHW_SPATIAL, false);
  return { inputs: [dx], weights };
}

/** dy added into zeros of x's shape at the forward's argmax positions (TF's rule: the first maximum). */
function maxPoolGrad(ctx: GradContext): GradResult {
  const { b } = ctx;
  const [x] = ctx.inputs;
  const shape = b.op('Shape', [x]);
  const zeros = b.reshape(b.op('ConstantOfShape', [shape]), [-1]);
  const flat = b.op('ScatterElements', [zeros, b.reshape(ctx.saved.indices, [-1]), b.reshape(ctx.dy, [-1])], { axis: int(0), reduction: str('add') });
  return { inputs: [b.op('Reshape', [flat, shape])] };
}

/** The transposed average: a depthwise ConvTranspose with a uniform 1/(kh kw) kernel (zeros counted, as forward). */
function avgPoolGrad(ctx: GradContext): GradResult {
  const { b } = ctx;
  const a = ctx.node.attrs;
  const k = pair(a.kernel);
  const s = pair(a.stride);
  const [ph, pw] = pair(a.pad);
  const { c, h, w } = ctx.inShapes[0];
  const { h: oh, w: ow } = ctx.outShape;
  const kernel = b.tensor('avgpool_grad', [c, 1, k[0], k[1]], new Float32Array(c * k[0] * k[1]).fill(1 / (k[0] * k[1])));
  const outPad = [h - (s[0] * (oh - 1) + k[0] - 2 * ph), w - (s[1] * (ow - 1) + k[1] - 2 * pw)];
  return { inputs: [b.op('ConvTranspose', [ctx.dy, kernel], { kernel_shape: ints(k), strides: ints(s), pads: ints([ph, pw, ph, pw]), output_padding: ints(outPad), group: int(c) }, 'dx')] };
}

export const ONNX_GRAD = {
  conv: convGrad,
  conv_transpose: convTransposeGrad,
  bn: bnGrad,
  // TF's rules at the kinks: relu passes (0, inf), relu6 (0, 6], relu6(x + 3) / 6 (-3, 3]
  relu: (ctx) => masked(ctx, 0, undefined),
  relu6: (ctx) => masked(ctx, 0, 6),
  hsigmoid: (ctx) => masked(ctx, -3, 3, 1 / 6),
  sigmoid: (ctx) => {
    const { b, output: y } = ctx;
    return { inputs: [b.mul(ctx.dy, b.mul(y, b.sub(b.scalar(1), y)))] };
  },
  add: (ctx) => ({ inputs: ctx.inputs.map(() => ctx.dy) }),
  mul: (ctx) => {
    const [x0, x1] = ctx.inputs;
    return {
      inputs: [
        ctx.needs[0] ? unbroadcast(ctx, ctx.b.mul(ctx.dy, x1), ctx.inShapes[0]) : undefined,
        ctx.needs[1] ? unbroadcast(ctx, ctx.b.mul(ctx.dy, x0), ctx.inShapes[1]) : undefined,
      ],
    };
  },
  concat: (ctx) => ({ inputs: ctx.b.opN('Split', [ctx.dy, ctx.b.i64(ctx.inShapes.map((s) => s.c))], ctx.inputs.length, { axis: int(1) }, 'dcat') }),
  resize: resizeGrad,
  maxpool: maxPoolGrad,
  avgpool: avgPoolGrad,
  global_avgpool: (ctx) => {
    const { b } = ctx;
    const { h, w } = ctx.inShapes[0];
    return { inputs: [b.op('Expand', [b.mul(ctx.dy, b.scalar(1 / (h * w))), b.op('Shape', [ctx.inputs[0]])])] };
  },
  dropout: (ctx) => ({ inputs: [ctx.saved.mask ? ctx.b.mul(ctx.b.where(ctx.saved.mask, ctx.dy), ctx.saved.scale) : ctx.dy] }),
  identity: (ctx) => ({ inputs: [ctx.dy] }),
} satisfies Record<OpKind, GradRule>;

