// The ONNX lowering of every op, keyed by OpKind so an op without one is a type error (STYLE.md 1).
// Everything is NCHW inside the model, like its input and output, so no lowering needs a Transpose:
// weights change layout instead (conv OIHW, conv_transpose IOHW) and channel axes become axis 1.
// Each lowering matches the op's TF.js kernel (src/runtime/kernels.ts); test/onnx.test.ts checks
// every one of them numerically against it in ONNX Runtime.
import type { IrNode, Shape } from '../ir/graph.js';
import { HWIO_TO_OIHW } from '../ir/layout.js';
import { padOf, type OpKind } from '../ir/ops.js';
import { AttrType } from './onnx-proto.js';

export type OnnxAttr =
  | { type: typeof AttrType.INT; i: number }
  | { type: typeof AttrType.FLOAT; f: number }
  | { type: typeof AttrType.STRING; s: string }
  | { type: typeof AttrType.INTS; ints: number[] }
  | { type: typeof AttrType.FLOATS; floats: number[] };

export interface OnnxNode {
  op_type: string;
  /** '' stands for an omitted optional input */
  input: string[];
  output: string[];
  attrs?: Record<string, OnnxAttr>;
}

export const int = (i: number): OnnxAttr => ({ type: AttrType.INT, i });
export const float = (f: number): OnnxAttr => ({ type: AttrType.FLOAT, f });
export const str = (s: string): OnnxAttr => ({ type: AttrType.STRING, s });
export const ints = (v: readonly number[]): OnnxAttr => ({ type: AttrType.INTS, ints: [...v] });

export interface LowerContext {
  node: IrNode;
  /** ONNX tensor names of the data inputs */
  inputs: string[];
  /** the ONNX tensor name this node's result must have */
  output: string;
  /** the node's weight `name` as an initializer, its axes permuted by `perm` (TF -> ONNX layout); returns its name */
  weight(name: string, perm?: readonly number[]): string;
  /** a shared float32 scalar initializer */
  scalar(value: number): string;
  /** an int64 [N, C, H, W] tensor of this shape with the batch N read from the model input (Resize sizes) */
  sizes(shape: Shape): string;
  /** a constant float32 [1, 1, f, f] (Resize scales) */
  scales(factor: number): string;
  /** symbolic-size models only: int64 [N, C, H, W] of tensor `x`'s N, C and tensor `like`'s H, W, read at run time */
  sizesLike?(x: string, like: string): string;
  /** the ONNX tensor of the node a resize `like:` names */
  like?: string;
}

/** Nodes computing the op, or an alias: the op is the identity on this ONNX tensor. */
export type Lowering = (ctx: LowerContext) => OnnxNode[] | { alias: string };

const pair = (v: unknown) => [...(v as readonly number[])] as [number, number];
const one = (ctx: LowerContext, op_type: string, attrs?: Record<string, OnnxAttr>, extra: string[] = []): OnnxNode[] => [
  { op_type, input: [...ctx.inputs, ...extra], output: [ctx.output], attrs },
];
/** ONNX pads: [top, left, bottom, right] (all begins, then all ends). */
const pads = ([ph, pw]: [number, number]) => ints([ph, pw, ph, pw]);
const optionalBias = (ctx: LowerContext) => (ctx.node.attrs.bias ? [ctx.weight('bias')] : []);

const pool = (op_type: 'MaxPool' | 'AveragePool'): Lowering => (ctx) => {
  const a = ctx.node.attrs;
  return one(ctx, op_type, {
    kernel_shape: ints(pair(a.kernel)),
    strides: ints(pair(a.stride)),
    pads: pads(pair(a.pad)),
    // max: ONNX pads never win, like -inf padding; avg: zeros count (PyTorch's default)
    ...(op_type === 'AveragePool' ? { count_include_pad: int(1) } : {}),
  });
};

export const ONNX_LOWERING = {
  conv: (ctx) => {
    const a = ctx.node.attrs;
    return [
      {
        op_type: 'Conv',
        input: [ctx.inputs[0], ctx.weight('kernel', HWIO_TO_OIHW), ...optionalBias(ctx)],
        output: [ctx.output],
        attrs: { kernel_shape: ints(pair(a.kernel)), strides: ints(pair(a.stride)), dilations: ints(pair(a.dilation)), pads: pads(padOf(a)), group: int(a.groups as number) },
      },
    ];
  },
  // PyTorch's ConvTranspose2d: `pads` crop the full output, `output_padding` extends it at the end
  conv_transpose: (ctx) => {
    const a = ctx.node.attrs;
    return [
      {
        op_type: 'ConvTranspose',
        input: [ctx.inputs[0], ctx.weight('kernel', HWIO_TO_OIHW), ...optionalBias(ctx)],
        output: [ctx.output],
        attrs: { kernel_shape: ints(pair(a.kernel)), strides: ints(pair(a.stride)), pads: pads(pair(a.pad)), output_padding: ints(pair(a.output_pad)) },
      },
    ];
  },
  bn: (ctx) => one(ctx, 'BatchNormalization', { epsilon: float(ctx.node.attrs.eps as number) }, ['gamma', 'beta', 'mean', 'variance'].map((w) => ctx.weight(w))),
  relu: (ctx) => one(ctx, 'Relu'),
  // Clip takes its bounds as inputs since opset 11
  relu6: (ctx) => one(ctx, 'Clip', undefined, [ctx.scalar(0), ctx.scalar(6)]),
  sigmoid: (ctx) => one(ctx, 'Sigmoid'),
  // max(0, min(1, x/6 + 1/2)) = relu6(x + 3) / 6 (MobileNetV3), not ONNX's default alpha 0.2
  hsigmoid: (ctx) => one(ctx, 'HardSigmoid', { alpha: float(1 / 6), beta: float(0.5) }),
  add: (ctx) => one(ctx, ctx.inputs.length === 2 ? 'Add' : 'Sum'),
  // a [N, C, 1, 1] attention map broadcasts over [N, C, H, W] in NCHW as it does in NHWC
  mul: (ctx) => one(ctx, 'Mul'),
  concat: (ctx) => one(ctx, 'Concat', { axis: int(1) }),
  // explicit output sizes (the same for scale, size and like): no float scale to round
  resize: (ctx) => [
    {
      op_type: 'Resize',
      // an integer scale is a constant: no Shape op, and ONNX Runtime plans the whole graph ahead
      // (about 10 % faster on alnet); `like:` in a symbolic-size model: the sizes of that tensor at
      // run time; sizes as recorded otherwise, with the batch read from the input
      input:
        typeof ctx.node.attrs.scale === 'number'
          ? [ctx.inputs[0], '', ctx.scales(ctx.node.attrs.scale)]
          : [ctx.inputs[0], '', '', ctx.like && ctx.sizesLike ? ctx.sizesLike(ctx.inputs[0], ctx.like) : ctx.sizes(ctx.node.shape)],
      output: [ctx.output],
      attrs: {
        coordinate_transformation_mode: str('half_pixel'),
        ...(ctx.node.attrs.mode === 'nearest'
          ? // TF's half-pixel nearest takes floor((i + 0.5) * in/out) = round-half-up of ONNX's (i + 0.5) * in/out - 0.5
            { mode: str('nearest'), nearest_mode: str('round_prefer_ceil') }
          : { mode: str('linear') }),
      },
    },
  ],
  maxpool: pool('MaxPool'),
  avgpool: pool('AveragePool'),
  global_avgpool: (ctx) => one(ctx, 'GlobalAveragePool'),
  // inference form: both are pass-throughs, so they get no node of their own
  dropout: (ctx) => ({ alias: ctx.inputs[0] }),
  identity: (ctx) => ({ alias: ctx.inputs[0] }),
} satisfies Record<OpKind, Lowering>;
