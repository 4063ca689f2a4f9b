// The op registry: every primitive described once (STYLE.md 1). Attribute schema and defaults,
// arity, shape rule, parameter and FLOP counts, a one-line formula, whether channels pass through
// (`keepsChannels`) and how the spatial grid moves (`grid`, for the network stride) live here; the
// JSON Schema, the expander, shape inference, the stride check, summary and passes read this table.
// What each backend does with an op lives with that backend, in a table keyed by OpKind and
// declared `satisfies Record<OpKind, ...>`, so a new op without an entry there is a type error:
// the TF.js kernel in runtime/kernels.ts (TFJS_KERNELS), the ONNX lowering in emit/onnx-ops.ts
// (ONNX_LOWERING), the TF.js-graph lowering in emit/tfjs-graph-ops.ts (TFJS_GRAPH_LOWERINGS), the
// PyTorch module line in emit/pytorch.ts (PYTORCH_OPS) and
// the ONNX training step's gradient rule in train/ort/gradients.ts (ONNX_GRAD; TRAIN_FORWARD there
// lists only the ops whose training forward differs). The TF.js engine's gradients are TF.js's own
// autodiff, with the custom ones of runtime/gradients.ts called from the kernels.
import type { Attrs, Shape } from './shape.js';

export type AttrType = 'int' | 'pair' | 'float' | 'bool' | 'enum' | 'ref';

export interface AttrSpec {
  type: AttrType;
  doc: string;
  /** absent and not `required`: the attribute is optional with no value */
  default?: number | boolean | string | readonly number[];
  required?: boolean;
  min?: number;
  max?: number;
  values?: readonly string[];
}

export interface ShapeFailure {
  code: 'channel-mismatch' | 'spatial-mismatch' | 'shape-error';
  message: string;
  hint?: string;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  role: 'trainable' | 'state';
  /** how a fresh network starts: He-normal over `fanIn`, or a constant */
  init: { he: number } | { constant: number };
}

export interface OpContext {
  inputs: Shape[];
  /** input node ids, for messages */
  names: string[];
  attrs: Attrs;
  /** the shape of the node a `ref` attribute names (resize `like`) */
  ref?: Shape;
}

export interface OpDef {
  formula: string;
  arity: { min: number; max: number };
  attrs: Record<string, AttrSpec>;
  /** fills defaults that depend on other attributes (a pool's stride is its kernel) */
  complete?(attrs: Attrs): Attrs;
  shape(ctx: OpContext): Shape | ShapeFailure;
  /**
   * The tensors this node owns, by name. Parameter counts are read from here: `trainable` ones are
   * what PyTorch's `parameters()` counts; `state` (BatchNorm running statistics) is stored too.
   * Layouts are TF's: a conv kernel is [kh, kw, cin/groups, out]; a transposed one [kh, kw, out, cin].
   */
  weights(ctx: OpContext): WeightSpec[];
  /** floating-point operations for one image (a multiply-add counts 2) */
  flops(ctx: OpContext, out: Shape): number;
  /**
   * One input, and the output has that input's channel count (no attribute of this node sets it).
   * The front end's channel-count message walks back through such nodes to the node that set the
   * channels. False for ops that set channels (conv, concat) and for multi-input ones (add, mul),
   * where that walk stops.
   */
  keepsChannels: boolean;
  /** Where the output sits on the input's sampling grid, for the network stride: see {@link GridRule}. */
  grid(attrs: Attrs): GridRule;
}

/**
 * How an op moves the spatial sampling grid, read by `networkStride` (src/ir/stride.ts). A node's
 * factor [fh, fw] is how many input pixels one of its pixels spans; a node starts from the largest
 * factor among its inputs, then:
 * - `'same'`: keeps it (elementwise ops, bn, add, concat, ...);
 * - `{ down: [sh, sw] }`: multiplies it (a strided conv or pool);
 * - `{ up: [sh, sw] }`: divides it (a transposed conv's stride, resize by `scale`);
 * - `{ like: id }`: takes the factor of node `id` (resize `like:`); the output's size is that node's.
 *   The nodes before it still count when the resize is merged back with another path (a U-Net
 *   decoder written `like: skip`), unless it says `stretch: true` (pyramid pooling): see stride.ts;
 * - `'free'`: resets it to [1, 1]; the output's size does not depend on the input's (global pooling,
 *   resize to a fixed `size`), so the nodes before it are size-free too.
 */
export type GridRule = 'same' | 'free' | { down: readonly [number, number] } | { up: readonly [number, number] } | { like: string };

const pair = (v: unknown) => v as readonly [number, number];
/** Largest channel count of one node, and side of a fixed resize: sane maxima, so a typo is an error, not an allocation. */
export const MAX_CHANNELS = 16384;
export const MAX_SIZE = 16384;

const size = (s: Shape) => s.h * s.w * s.c;
const none = () => 0;
const noWeights = (): WeightSpec[] => [];
const biasOf = (ctx: OpContext, out: number): WeightSpec[] => (ctx.attrs.bias ? [{ name: 'bias', shape: [out], role: 'trainable', init: { constant: 0 } }] : []);
const fail = (code: ShapeFailure['code'], message: string, hint?: string): ShapeFailure => ({ code, message, hint });
export const isShapeFailure = (x: Shape | ShapeFailure): x is ShapeFailure => 'code' in x;
const sameGrid = (): GridRule => 'same';
const strideGrid = (attrs: Attrs): GridRule => ({ down: pair(attrs.stride) });

/** Output length of a sliding window (PyTorch's rule: floor). */
const windowOut = (n: number, k: number, s: number, p: number, d = 1) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;

/** Symmetric padding that keeps a stride-1 window centred: d*(k-1)/2 (the IR never uses TF "SAME"). */
export function centredPad(k: readonly number[], d: readonly number[]): [number, number] {
  return [(d[0] * (k[0] - 1)) / 2, (d[1] * (k[1] - 1)) / 2];
}

/** The padding a conv or pool really uses: explicit `pad`, else centred. */
export function padOf(attrs: Attrs): [number, number] {
  if (Array.isArray(attrs.pad)) return pair(attrs.pad) as [number, number];
  return centredPad(pair(attrs.kernel), pair(attrs.dilation ?? [1, 1]));
}

function sameSpatial(ctx: OpContext, what: string): ShapeFailure | undefined {
  const [a, ...rest] = ctx.inputs;
  const j = rest.findIndex((s) => s.h !== a.h || s.w !== a.w);
  if (j < 0) return undefined;
  const b = rest[j];
  return fail(
    'spatial-mismatch',
    `${what} needs inputs of the same spatial size: '${ctx.names[0]}' is ${a.h}x${a.w} but '${ctx.names[j + 1]}' is ${b.h}x${b.w}`,
    'resize one of them (op: resize, like: <the other>) or check the strides on the way',
  );
}

function windowShape(ctx: OpContext, outChannels: number): Shape | ShapeFailure {
  const [x] = ctx.inputs;
  const k = pair(ctx.attrs.kernel);
  const s = pair(ctx.attrs.stride);
  const d = pair(ctx.attrs.dilation ?? [1, 1]);
  const p = padOf(ctx.attrs);
  if (!Number.isInteger(p[0]) || !Number.isInteger(p[1]))
    return fail('shape-error', `kernel ${k[0]}x${k[1]} has no centred padding`, 'give `pad` explicitly, or use an odd kernel');
  const h = windowOut(x.h, k[0], s[0], p[0], d[0]);
  const w = windowOut(x.w, k[1], s[1], p[1], d[1]);
  if (h < 1 || w < 1)
    return fail('shape-error', `a ${k[0]}x${k[1]} window does not fit input '${ctx.names[0]}' of ${x.h}x${x.w}`, 'use a larger input size or a smaller kernel');
  return { h, w, c: outChannels };
}

const elementwise = (formula: string, flopsPerElement: number): OpDef => ({
  formula,
  arity: { min: 1, max: 1 },
  attrs: {},
  shape: (ctx) => ctx.inputs[0],
  weights: noWeights,
  flops: (_, out) => flopsPerElement * size(out),
  keepsChannels: true,
  grid: sameGrid,
});

const kernelAttrs = {
  kernel: { type: 'pair', required: true, min: 1, max: 64, doc: 'window size, k or [kh, kw]' },
  stride: { type: 'pair', default: [1, 1], min: 1, max: 64, doc: 'step, s or [sh, sw]' },
  dilation: { type: 'pair', default: [1, 1], min: 1, max: 64, doc: 'spacing of kernel taps' },
  pad: { type: 'pair', min: 0, max: 256, doc: 'zeros on each side, p or [ph, pw]; default: centred, dilation*(kernel-1)/2' },
} as const satisfies Record<string, AttrSpec>;

const poolAttrs = {
  kernel: kernelAttrs.kernel,
  stride: { type: 'pair', min: 1, max: 64, doc: 'step; default: the kernel size' },
  pad: { type: 'pair', default: [0, 0], min: 0, max: 256, doc: 'padding on each side' },
} as const satisfies Record<string, AttrSpec>;

const windowPool = (formula: string): OpDef => ({
  formula,
  arity: { min: 1, max: 1 },
  attrs: poolAttrs,
  complete: (attrs) => ({ ...attrs, stride: attrs.stride ?? attrs.kernel }),
  shape: (ctx) => windowShape(ctx, ctx.inputs[0].c),
  weights: noWeights,
  flops: (ctx, out) => pair(ctx.attrs.kernel)[0] * pair(ctx.attrs.kernel)[1] * size(out),
  keepsChannels: true,
  grid: strideGrid,
});

export const OPS = {
  conv: {
    formula: 'y = W * x (+ b), cross-correlation with explicit symmetric zero padding',
    arity: { min: 1, max: 1 },
    attrs: {
      out: { type: 'int', required: true, min: 1, max: MAX_CHANNELS, doc: 'output channels' },
      ...kernelAttrs,
      groups: { type: 'int', default: 1, min: 1, max: MAX_CHANNELS, doc: 'channel groups (cin and out must both divide by it)' },
      bias: { type: 'bool', default: false, doc: 'add a learned bias (false when a BatchNorm follows)' },
    },
    shape(ctx) {
      const [x] = ctx.inputs;
      const g = ctx.attrs.groups as number;
      const out = ctx.attrs.out as number;
      if (x.c % g !== 0 || out % g !== 0)
        return fail('channel-mismatch', `groups=${g} must divide the input channels (${x.c}, from '${ctx.names[0]}') and out (${out})`);
      return windowShape(ctx, out);
    },
    weights(ctx) {
      const k = pair(ctx.attrs.kernel);
      const out = ctx.attrs.out as number;
      const cin = ctx.inputs[0].c / (ctx.attrs.groups as number);
      return [{ name: 'kernel', shape: [k[0], k[1], cin, out], role: 'trainable', init: { he: k[0] * k[1] * cin } }, ...biasOf(ctx, out)];
    },
    flops: (ctx, out) => {
      const k = pair(ctx.attrs.kernel);
      const macs = ((k[0] * k[1] * ctx.inputs[0].c) / (ctx.attrs.groups as number)) * size(out);
      return 2 * macs + (ctx.attrs.bias ? size(out) : 0);
    },
    keepsChannels: false,
    grid: strideGrid,
  },
  conv_transpose: {
    formula: 'y = W^T * x (+ b): the gradient of a strided conv; H = (H-1)s - 2p + k + output_pad',
    arity: { min: 1, max: 1 },
    attrs: {
      out: { type: 'int', required: true, min: 1, max: MAX_CHANNELS, doc: 'output channels' },
      kernel: kernelAttrs.kernel,
      stride: kernelAttrs.stride,
      pad: { type: 'pair', default: [0, 0], min: 0, max: 256, doc: 'cropped from each side of the full output' },
      output_pad: { type: 'pair', default: [0, 0], min: 0, max: 64, doc: 'extra rows/cols at the bottom/right' },
      bias: { type: 'bool', default: true, doc: 'add a learned bias' },
    },
    shape(ctx) {
      const [x] = ctx.inputs;
      const k = pair(ctx.attrs.kernel);
      const s = pair(ctx.attrs.stride);
      const p = pair(ctx.attrs.pad);
      const op = pair(ctx.attrs.output_pad);
      if (op[0] >= s[0] || op[1] >= s[1]) return fail('shape-error', `output_pad (${op.join('x')}) must be smaller than stride (${s.join('x')})`);
      const h = (x.h - 1) * s[0] - 2 * p[0] + k[0] + op[0];
      const w = (x.w - 1) * s[1] - 2 * p[1] + k[1] + op[1];
      if (h < 1 || w < 1) return fail('shape-error', `padding ${p.join('x')} crops away the whole output`);
      return { h, w, c: ctx.attrs.out as number };
    },
    weights(ctx) {
      const k = pair(ctx.attrs.kernel);
      const out = ctx.attrs.out as number;
      const cin = ctx.inputs[0].c;
      return [{ name: 'kernel', shape: [k[0], k[1], out, cin], role: 'trainable', init: { he: k[0] * k[1] * cin } }, ...biasOf(ctx, out)];
    },
    flops: (ctx, out) => {
      const k = pair(ctx.attrs.kernel);
      return 2 * k[0] * k[1] * size(ctx.inputs[0]) * (ctx.attrs.out as number) + (ctx.attrs.bias ? size(out) : 0);
    },
    keepsChannels: false,
    grid: (attrs) => ({ up: pair(attrs.stride) }),
  },
  bn: {
    formula: 'y = gamma * (x - mean) / sqrt(var + eps) + beta, per channel',
    arity: { min: 1, max: 1 },
    attrs: {
      eps: { type: 'float', default: 1e-5, min: 0, doc: 'added to the variance' },
      momentum: { type: 'float', default: 0.1, min: 0, max: 1, doc: 'weight of the new batch in the running statistics' },
    },
    shape: (ctx) => ctx.inputs[0],
    weights: (ctx) => {
      const c = [ctx.inputs[0].c];
      return [
        { name: 'gamma', shape: c, role: 'trainable', init: { constant: 1 } },
        { name: 'beta', shape: c, role: 'trainable', init: { constant: 0 } },
        { name: 'mean', shape: c, role: 'state', init: { constant: 0 } },
        { name: 'variance', shape: c, role: 'state', init: { constant: 1 } },
      ];
    },
    flops: (_, out) => 2 * size(out),
    keepsChannels: true,
    grid: sameGrid,
  },
  relu: elementwise('y = max(x, 0)', 1),
  relu6: elementwise('y = min(max(x, 0), 6)', 2),
  sigmoid: elementwise('y = 1 / (1 + exp(-x))', 4),
  hsigmoid: elementwise('y = relu6(x + 3) / 6 (MobileNetV3; not tfjs hardSigmoid)', 4),
  add: {
    formula: 'y = x1 + x2 + ... (same shape)',
    arity: { min: 2, max: 16 },
    attrs: {},
    shape: (ctx) => sameChannels(ctx, 'add') ?? sameSpatial(ctx, 'add') ?? ctx.inputs[0],
    weights: noWeights,
    flops: (ctx, out) => (ctx.inputs.length - 1) * size(out),
    keepsChannels: false,
    grid: sameGrid,
  },
  mul: {
    formula: 'y = a * b; a 1x1 input broadcasts over the other (attention)',
    arity: { min: 2, max: 2 },
    attrs: {},
    shape(ctx) {
      const m = sameChannels(ctx, 'mul');
      if (m) return m;
      const [a, b] = ctx.inputs;
      if (a.h === 1 && a.w === 1) return b;
      if (b.h === 1 && b.w === 1) return a;
      return sameSpatial(ctx, 'mul') ?? a;
    },
    weights: noWeights,
    flops: (_, out) => size(out),
    keepsChannels: false,
    grid: sameGrid,
  },
  concat: {
    formula: 'y = [x1, x2, ...] along channels',
    arity: { min: 2, max: 16 },
    attrs: {},
    shape: (ctx) => sameSpatial(ctx, 'concat') ?? { ...ctx.inputs[0], c: ctx.inputs.reduce((s, x) => s + x.c, 0) },
    weights: noWeights,
    flops: none,
    keepsChannels: false,
    grid: sameGrid,
  },
  resize: {
    formula: 'half-pixel resize (align_corners=False) by an integer `scale`, to `size`, or like another node',
    arity: { min: 1, max: 1 },
    attrs: {
      scale: { type: 'int', min: 1, max: 64, doc: 'upsampling factor (one of scale, size, like)' },
      size: { type: 'pair', min: 1, max: MAX_SIZE, doc: 'output [h, w]' },
      like: { type: 'ref', doc: 'a node whose spatial size to take' },
      mode: { type: 'enum', values: ['bilinear', 'nearest'], default: 'bilinear', doc: 'interpolation' },
      stretch: {
        type: 'bool',
        doc: 'with like: the input may sit on any coarser grid and is stretched to fit (a pyramid-pooling bin); its downsampling does not count toward the network stride',
      },
    },
    shape(ctx) {
      const [x] = ctx.inputs;
      const given = ['scale', 'size', 'like'].filter((k) => ctx.attrs[k] !== undefined);
      if (given.length !== 1) return fail('shape-error', `resize needs exactly one of scale, size, like (got ${given.length ? given.join(', ') : 'none'})`);
      if (ctx.attrs.stretch !== undefined && ctx.attrs.like === undefined) return fail('shape-error', 'resize stretch: applies to resize like: only', 'remove stretch, or resize like: a node');
      if (ctx.attrs.scale !== undefined) return { h: x.h * (ctx.attrs.scale as number), w: x.w * (ctx.attrs.scale as number), c: x.c };
      if (ctx.attrs.size !== undefined) return { h: pair(ctx.attrs.size)[0], w: pair(ctx.attrs.size)[1], c: x.c };
      return { h: ctx.ref!.h, w: ctx.ref!.w, c: x.c };
    },
    weights: noWeights,
    flops: (ctx, out) => (ctx.attrs.mode === 'nearest' ? 0 : 7 * size(out)),
    keepsChannels: true,
    grid(attrs) {
      if (typeof attrs.scale === 'number') return { up: [attrs.scale, attrs.scale] };
      if (typeof attrs.like === 'string') return { like: attrs.like };
      return attrs.size ? 'free' : 'same';
    },
  },
  maxpool: windowPool('y = max over a k x k window (padding never wins)'),
  avgpool: windowPool('y = mean over a k x k window (zero padding counted)'),
  global_avgpool: {
    formula: 'y[c] = mean over H, W of x[c]; output 1x1',
    arity: { min: 1, max: 1 },
    attrs: {},
    shape: (ctx) => ({ h: 1, w: 1, c: ctx.inputs[0].c }),
    weights: noWeights,
    flops: (ctx) => size(ctx.inputs[0]),
    keepsChannels: true,
    grid: () => 'free',
  },
  dropout: {
    formula: 'training: zero each element with probability `rate` and scale by 1/(1-rate); inference: identity',
    arity: { min: 1, max: 1 },
    attrs: { rate: { type: 'float', default: 0.1, min: 0, max: 0.99, doc: 'probability of dropping an element' } },
    shape: (ctx) => ctx.inputs[0],
    weights: noWeights,
    flops: none,
    keepsChannels: true,
    grid: sameGrid,
  },
  identity: elementwise('y = x (a named pass-through)', 0),
} satisfies Record<string, OpDef>;

function sameChannels(ctx: OpContext, what: string): ShapeFailure | undefined {
  const [a, ...rest] = ctx.inputs;
  const j = rest.findIndex((s) => s.c !== a.c);
  if (j < 0) return undefined;
  return fail(
    'channel-mismatch',
    `${what} needs inputs with the same channels: '${ctx.names[0]}' has ${a.c} but '${ctx.names[j + 1]}' has ${rest[j].c}`,
    `make both produce the same number of channels (e.g. out: ${a.c})`,
  );
}

export type OpKind = keyof typeof OPS;
export const OP_KINDS = Object.keys(OPS) as OpKind[];
export const isOpKind = (s: string): s is OpKind => Object.prototype.hasOwnProperty.call(OPS, s);
export const opDef = (k: OpKind): OpDef => OPS[k];
