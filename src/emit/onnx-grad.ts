// The ONNX gradient of every op (NCHW), keyed by OpKind so an op without one is a type error
// (STYLE.md 1). A rule gets the forward's tensor names and the gradient of the node's output, and
// emits the gradients of its data inputs and of its trainable weights. The same rules as the TF.js
// engine's hand-written gradients (src/runtime/gradients.ts); test/onnx-train.test.ts checks each
// one against them.
// Measured on this machine (PERF-NOTES.md, ONNX Runtime 1.30, 2 threads): the input gradient of a
// stride-1 conv runs 1.5-2.8x faster as a Conv with the flipped, transposed kernel than as a
// ConvTranspose, which wins for strides; the filter gradient as in-graph im2col (Pad, k*k strided
// Slices, Concat) and a batched MatMul beats the batch/channel-swapped Conv at every shape.
import type { IrNode, Shape } from '../ir/graph.js';
import { padOf, type OpKind } from '../ir/ops.js';
import { interpolationMatrix } from '../runtime/gradients.js';
import type { OnnxBuilder } from './onnx-builder.js';
import { int, ints } from './onnx-ops.js';

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

const unsupported = (what: string): GradRule => () => {
  throw new OnnxGradError(`${what} has no ONNX training gradient yet: train this spec with --engine tfjs`);
};

/** The kernel rotated 180 degrees in space with in/out swapped: OIHW [O, C, kh, kw] -> [C, O, kh, kw]. */
function flippedTransposed(b: OnnxBuilder, w: string, [kh, kw]: [number, number]): string {
  const flipped = b.op('Slice', [w, b.i64([-1, -1]), b.i64([-(kh + 1), -(kw + 1)]), b.i64([2, 3]), b.i64([-1, -1])]);
  return b.transpose(flipped, [1, 0, 2, 3]);
}

function convGrad(ctx: GradContext): GradResult {
  const { b, node, dy } = ctx;
  const a = node.attrs;
  if ((a.groups as number) !== 1) throw new OnnxGradError(`conv '${node.id}' has groups ${String(a.groups)}: the ONNX training graph takes groups 1 only; train with --engine tfjs`);
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
      dx = b.op('Conv', [dy, flippedTransposed(b, kernel, k)], { kernel_shape: ints(k), dilations: ints(d), pads: ints([q[0], q[1], q[0], q[1]]) }, 'dx');
    } else {
      // the rows the forward's floor dropped come back as output_padding
      const outPad = [h - (s[0] * (oh - 1) + reach[0] + 1 - 2 * ph), w - (s[1] * (ow - 1) + reach[1] + 1 - 2 * pw)];
      dx = b.op('ConvTranspose', [dy, kernel], { kernel_shape: ints(k), strides: ints(s), dilations: ints(d), pads: ints([ph, pw, ph, pw]), output_padding: ints(outPad) }, 'dx');
    }
  }
  const dwT = filterGradient(ctx, x, [c, h, w], [o, oh, ow], k, s, d, [ph, pw]); // [kh*kw*C, O]
  const weights: Record<string, string> = { kernel: b.transpose(b.reshape(dwT, [k[0], k[1], c, o]), [3, 2, 0, 1]) };
  if (a.bias) weights.bias = b.sum(dy, NCHW_SPATIAL, false);
  return { inputs: [dx], weights };
}

/**
 * dL/dkernel as [kh*kw*C, O] (tap-major): per tap, the shifted input [N, C, P] times dy^T [N, P, O],
 * summed over the batch. Stride 1: on the padded grid flattened, every tap is one contiguous
 * slice of the input at offset i*d*Wp + j*d (dy padded with zeros to the grid, so positions
 * outside the output add nothing); no im2col matrix is built (its Concat alone took ~140 ms of
 * an AL-Net step at 256x256). Strided: a strided slice per tap.
 */
function filterGradient(ctx: GradContext, x: string, [c, h, w]: number[], [o, oh, ow]: number[], k: [number, number], s: [number, number], d: [number, number], [ph, pw]: [number, number]): string {
  const { b, dy } = ctx;
  const hp = h + 2 * ph;
  const wp = w + 2 * pw;
  const parts: string[] = [];
  if (s[0] === 1 && s[1] === 1) {
    const grid = hp * wp;
    const reach = (k[0] - 1) * d[0] * wp + (k[1] - 1) * d[1];
    // one Pad: the conv's padding plus enough zero rows below for the largest offset
    const extraRows = Math.ceil(reach / wp);
    const xf = b.reshape(ph || pw || extraRows ? b.op('Pad', [x, b.i64([0, 0, ph, pw, 0, 0, ph + extraRows, pw])]) : x, [0, c, (hp + extraRows) * wp]);
    const dyGrid = hp === oh && wp === ow ? dy : b.op('Pad', [dy, b.i64([0, 0, 0, 0, 0, 0, hp - oh, wp - ow])]);
    const dyT = b.transpose(b.reshape(dyGrid, [0, o, grid]), [0, 2, 1]);
    for (let i = 0; i < k[0]; i++)
      for (let j = 0; j < k[1]; j++) {
        const off = i * d[0] * wp + j * d[1];
        const tap = off === 0 && !extraRows ? xf : b.op('Slice', [xf, b.i64([off]), b.i64([off + grid]), b.i64([2])], undefined, 'tap');
        parts.push(b.op('MatMul', [tap, dyT]));
      }
  } else {
    const xp = ph || pw ? b.op('Pad', [x, b.i64([0, 0, ph, pw, 0, 0, ph, pw])]) : x;
    const dyT = b.transpose(b.reshape(dy, [0, o, oh * ow]), [0, 2, 1]);
    for (let i = 0; i < k[0]; i++)
      for (let j = 0; j < k[1]; j++) {
        const begin = [i * d[0], j * d[1]];
        const tap = b.op('Slice', [xp, b.i64(begin), b.i64([begin[0] + (oh - 1) * s[0] + 1, begin[1] + (ow - 1) * s[1] + 1]), b.i64([2, 3]), b.i64(s)], undefined, 'tap');
        parts.push(b.op('MatMul', [b.reshape(tap, [0, c, oh * ow]), dyT]));
      }
  }
  // [N, kh*kw*C, O], summed over the batch
  return b.sum(parts.length === 1 ? parts[0] : b.op('Concat', parts, { axis: int(1) }), [0], false);
}

/**
 * BatchNorm in training mode: batch statistics over N, H, W; the running averages are updated by
 * the caller from `mean` and `variance`. Kept for the gradient: xc = x - mean, rstd, scale.
 */
export function bnTrainForward(b: OnnxBuilder, x: string, gamma: string, beta: string, c: number, eps: number): { y: string; mean: string; variance: string; saved: Record<string, string> } {
  const mean = b.mean(x, NCHW_SPATIAL);
  const xc = b.sub(x, mean);
  const variance = b.mean(b.mul(xc, xc), NCHW_SPATIAL);
  const rstd = b.op('Reciprocal', [b.op('Sqrt', [b.add(variance, b.scalar(eps))])]);
  const scale = b.mul(b.reshape(gamma, [1, c, 1, 1]), rstd);
  const y = b.add(b.mul(xc, scale), b.reshape(beta, [1, c, 1, 1]));
  return { y, mean, variance, saved: { xc, rstd, scale } };
}

/** dx = scale (dy - mean(dy) - xc rstd^2 mean(dy xc)); dgamma = sum(dy xc) rstd; dbeta = sum dy. */
function bnGrad(ctx: GradContext): GradResult {
  const { b, dy } = ctx;
  const { xc, rstd, scale } = ctx.saved;
  const { h, w } = ctx.inShapes[0];
  const count = b.mul(ctx.batch, b.scalar(h * w));
  const sumDy = b.sum(dy, NCHW_SPATIAL);
  const sumDyXc = b.sum(b.mul(dy, xc), NCHW_SPATIAL);
  const inner = b.sub(b.sub(dy, b.div(sumDy, count)), b.mul(xc, b.mul(b.mul(rstd, rstd), b.div(sumDyXc, count))));
  return {
    inputs: [ctx.needs[0] ? b.mul(scale, inner) : undefined],
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

export const ONNX_GRAD = {
  conv: convGrad,
  conv_transpose: unsupported('conv_transpose'),
  bn: bnGrad,
  relu: (ctx) => ({ inputs: [ctx.b.where(ctx.b.op('Greater', [ctx.output, ctx.b.scalar(0)]), ctx.dy)] }),
  // TF's rules at the kinks: relu6 passes (0, 6], relu6(x + 3) / 6 passes (-3, 3]
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
  maxpool: unsupported('maxpool'),
  avgpool: unsupported('avgpool'),
  global_avgpool: (ctx) => {
    const { b } = ctx;
    const { h, w } = ctx.inShapes[0];
    return { inputs: [b.op('Expand', [b.mul(ctx.dy, b.scalar(1 / (h * w))), b.op('Shape', [ctx.inputs[0]])])] };
  },
  dropout: (ctx) => {
    if ((ctx.node.attrs.rate as number) > 0) throw new OnnxGradError(`dropout '${ctx.node.id}' (rate ${String(ctx.node.attrs.rate)}) is not in the ONNX training graph yet: train with --engine tfjs`);
    return { inputs: [ctx.dy] };
  },
  identity: (ctx) => ({ inputs: [ctx.dy] }),
} satisfies Record<OpKind, GradRule>;

