// The TF.js-graph lowering of every op, keyed by OpKind so an op without one is a type error.
// Each entry lists the TensorFlow ops it may emit (the tests check them against tfjs-converter's op
// list) and builds them NHWC with the reference semantics of runtime/kernels.ts: explicit
// symmetric padding, half-pixel resize, hsigmoid = relu6(x + 3) / 6, pools over explicitly padded
// input. Spatial sizes are read at run time (Shape), so the graph takes any input size the
// network's stride divides, as the emitted TypeScript module's padding expects.
import type { IrNode, Shape } from '../ir/graph.js';
import { padOf, type OpKind } from '../ir/ops.js';
import type { Tensor32 } from '../ir/weights.js';
import { attr, type AttrJson } from './graphdef.js';

/** What a lowering sees of one IR node and how it adds TF nodes (named `<node id>/<suffix>`). */
export interface NodeEmitter {
  node: IrNode;
  /** tensor references of the data inputs */
  inputs: string[];
  inputShapes: Shape[];
  /** tensor reference of the `like` node (resize) */
  like?: string;
  weight(name: string): Tensor32;
  op(suffix: string, op: string, inputs: string[], attrs?: Record<string, AttrJson>): string;
  f32(suffix: string, shape: number[], data: ArrayLike<number>): string;
  i32(suffix: string, shape: number[], data: ArrayLike<number>): string;
}

export interface TfjsGraphLowering {
  /** every TF op this lowering may emit */
  tfOps: readonly string[];
  /** adds the node's TF nodes and returns the reference of its value */
  lower(e: NodeEmitter): string;
}

const pair = (v: unknown) => [...(v as readonly number[])] as [number, number];
const T = { T: attr.type('float32') };
const NHWC = attr.s('NHWC');
const ALL = 0b1111;

/** y[:, ::sh, ::sw, :] */
function subsample(e: NodeEmitter, x: string, s: [number, number]): string {
  const z = e.i32('slice_begin', [4], [0, 0, 0, 0]);
  const strides = e.i32('slice_strides', [4], [1, s[0], s[1], 1]);
  return e.op('subsample', 'StridedSlice', [x, z, z, strides], { ...T, Index: attr.type('int32'), begin_mask: attr.i(ALL), end_mask: attr.i(ALL), ellipsis_mask: attr.i(0), new_axis_mask: attr.i(0), shrink_axis_mask: attr.i(0) });
}

/** Output channels [from, to) of an HWIO kernel. */
function kernelColumns(k: Tensor32, from: number, to: number): Float32Array {
  const out = k.shape[3];
  const rows = k.data.length / out;
  const w = to - from;
  const data = new Float32Array(rows * w);
  for (let r = 0; r < rows; r++) data.set(k.data.subarray(r * out + from, r * out + to), r * w);
  return data;
}

function conv(e: NodeEmitter): string {
  const { attrs } = e.node;
  const [x] = e.inputs;
  const cin = e.inputShapes[0].c;
  const s = pair(attrs.stride);
  const d = pair(attrs.dilation);
  const [ph, pw] = padOf(attrs);
  const groups = attrs.groups as number;
  const kernel = e.weight('kernel');
  const [kh, kw, , out] = kernel.shape;
  // TF.js refuses stride and dilation both > 1: convolve densely, then subsample (as kernels.ts)
  const dense = (d[0] > 1 || d[1] > 1) && (s[0] > 1 || s[1] > 1);
  const window: Record<string, AttrJson> = {
    ...T,
    strides: attr.ints(dense ? [1, 1, 1, 1] : [1, s[0], s[1], 1]),
    dilations: attr.ints([1, d[0], d[1], 1]),
    data_format: NHWC,
    ...(ph || pw ? { padding: attr.s('EXPLICIT'), explicit_paddings: attr.ints([0, 0, ph, ph, pw, pw, 0, 0]) } : { padding: attr.s('VALID') }),
  };
  const conv2d = (suffix: string, input: string, filter: string) => e.op(suffix, 'Conv2D', [input, filter], { ...window, use_cudnn_on_gpu: attr.b(true) });
  let y: string;
  if (groups === 1) y = conv2d('conv', x, e.f32('kernel', kernel.shape, kernel.data));
  else if (groups === cin) {
    // [kh, kw, 1, cin*m] and TF's depthwise [kh, kw, cin, m] hold the same numbers in the same order
    const filter = e.f32('kernel', [kh, kw, cin, out / cin], kernel.data);
    y = e.op('depthwise', 'DepthwiseConv2dNative', [x, filter], window);
  } else {
    const axis = e.i32('axis', [], [3]);
    const parts = e.op('split', 'Split', [axis, x], { ...T, num_split: attr.i(groups) });
    const og = out / groups;
    const ys = Array.from({ length: groups }, (_, j) => conv2d(`conv_g${j}`, j ? `${parts}:${j}` : parts, e.f32(`kernel_g${j}`, [kh, kw, cin / groups, og], kernelColumns(kernel, j * og, (j + 1) * og))));
    y = e.op('concat', 'ConcatV2', [...ys, axis], { ...T, N: attr.i(groups), Tidx: attr.type('int32') });
  }
  if (dense) y = subsample(e, y, s);
  return e.node.attrs.bias ? biasAdd(e, y) : y;
}

function biasAdd(e: NodeEmitter, y: string): string {
  const b = e.weight('bias');
  return e.op('bias_add', 'BiasAdd', [y, e.f32('bias', b.shape, b.data)], { ...T, data_format: NHWC });
}

/**
 * The full transposed convolution (H-1)s + k, then the IR's cropping: `pad` off each side and
 * `output_pad` extra rows at the bottom/right, zeros where they pass the full output (PyTorch).
 */
function convTranspose(e: NodeEmitter): string {
  const { attrs } = e.node;
  const [x] = e.inputs;
  const kernel = e.weight('kernel');
  const [kh, kw, out] = kernel.shape;
  const s = pair(attrs.stride);
  const p = pair(attrs.pad);
  const op = pair(attrs.output_pad);
  const shape = e.op('shape', 'Shape', [x], { ...T, out_type: attr.type('int32') });
  const scaled = e.op('scaled_shape', 'Mul', [shape, e.i32('stride', [4], [1, s[0], s[1], 0])], { T: attr.type('int32') });
  const outShape = e.op('output_shape', 'AddV2', [scaled, e.i32('window', [4], [0, kh - s[0], kw - s[1], out])], { T: attr.type('int32') });
  let y = e.op('conv_transpose', 'Conv2DBackpropInput', [outShape, e.f32('kernel', kernel.shape, kernel.data), x], {
    ...T,
    strides: attr.ints([1, s[0], s[1], 1]),
    padding: attr.s('VALID'),
    data_format: NHWC,
    dilations: attr.ints([1, 1, 1, 1]),
  });
  const extra = [Math.max(0, op[0] - p[0]), Math.max(0, op[1] - p[1])];
  if (extra[0] || extra[1]) y = e.op('output_pad', 'Pad', [y, e.i32('output_paddings', [4, 2], [0, 0, 0, extra[0], 0, extra[1], 0, 0])], { ...T, Tpaddings: attr.type('int32') });
  const cut = [Math.max(0, p[0] - op[0]), Math.max(0, p[1] - op[1])];
  if (p[0] || p[1] || cut[0] || cut[1]) {
    // a negative end counts from the end; end_mask bits mark "to the end" (batch, channels, uncut axes)
    const endMask = 0b1001 | (cut[0] ? 0 : 0b0010) | (cut[1] ? 0 : 0b0100);
    y = e.op('crop', 'StridedSlice', [y, e.i32('crop_begin', [4], [0, p[0], p[1], 0]), e.i32('crop_end', [4], [0, -cut[0], -cut[1], 0]), e.i32('crop_strides', [4], [1, 1, 1, 1])], {
      ...T,
      Index: attr.type('int32'),
      begin_mask: attr.i(0b1001),
      end_mask: attr.i(endMask),
      ellipsis_mask: attr.i(0),
      new_axis_mask: attr.i(0),
      shrink_axis_mask: attr.i(0),
    });
  }
  return attrs.bias ? biasAdd(e, y) : y;
}

function batchNorm(e: NodeEmitter): string {
  const w = (name: string) => e.f32(name, e.weight(name).shape, e.weight(name).data);
  return e.op('batch_norm', 'FusedBatchNormV3', [e.inputs[0], w('gamma'), w('beta'), w('mean'), w('variance')], {
    ...T,
    U: attr.type('float32'),
    epsilon: attr.f(e.node.attrs.eps as number),
    data_format: NHWC,
    is_training: attr.b(false),
  });
}

function resize(e: NodeEmitter): string {
  const { attrs } = e.node;
  const [x] = e.inputs;
  const spatial = (t: string, suffix: string) => {
    const shape = e.op(`${suffix}_shape`, 'Shape', [t], { ...T, out_type: attr.type('int32') });
    return e.op(`${suffix}_hw`, 'StridedSlice', [shape, e.i32(`${suffix}_begin`, [1], [1]), e.i32(`${suffix}_end`, [1], [3]), e.i32(`${suffix}_step`, [1], [1])], {
      T: attr.type('int32'),
      Index: attr.type('int32'),
      begin_mask: attr.i(0),
      end_mask: attr.i(0),
      ellipsis_mask: attr.i(0),
      new_axis_mask: attr.i(0),
      shrink_axis_mask: attr.i(0),
    });
  };
  let size: string;
  if (attrs.scale !== undefined) size = e.op('size', 'Mul', [spatial(x, 'in'), e.i32('scale', [2], [attrs.scale as number, attrs.scale as number])], { T: attr.type('int32') });
  else if (attrs.size !== undefined) size = e.i32('size', [2], pair(attrs.size));
  else size = spatial(e.like!, 'like');
  const op = attrs.mode === 'nearest' ? 'ResizeNearestNeighbor' : 'ResizeBilinear';
  return e.op('resize', op, [x, size], { ...T, align_corners: attr.b(false), half_pixel_centers: attr.b(true) });
}

function pool(e: NodeEmitter, kind: 'max' | 'avg'): string {
  const { attrs } = e.node;
  const [ph, pw] = pair(attrs.pad);
  const k = pair(attrs.kernel);
  const s = pair(attrs.stride);
  let x = e.inputs[0];
  if (ph || pw) {
    const paddings = e.i32('paddings', [4, 2], [0, 0, ph, ph, pw, pw, 0, 0]);
    // max: padding never wins (-inf); avg: zeros are counted (PyTorch's count_include_pad)
    x =
      kind === 'max'
        ? e.op('pad', 'PadV2', [x, paddings, e.f32('pad_value', [], [-Infinity])], { ...T, Tpaddings: attr.type('int32') })
        : e.op('pad', 'Pad', [x, paddings], { ...T, Tpaddings: attr.type('int32') });
  }
  return e.op('pool', kind === 'max' ? 'MaxPool' : 'AvgPool', [x], { ...T, ksize: attr.ints([1, k[0], k[1], 1]), strides: attr.ints([1, s[0], s[1], 1]), padding: attr.s('VALID'), data_format: NHWC });
}

const unary = (op: string): TfjsGraphLowering => ({ tfOps: [op], lower: (e) => e.op(op.toLowerCase(), op, [e.inputs[0]], T) });

export const TFJS_GRAPH_LOWERINGS = {
  conv: { tfOps: ['Const', 'Conv2D', 'DepthwiseConv2dNative', 'Split', 'ConcatV2', 'StridedSlice', 'BiasAdd'], lower: conv },
  conv_transpose: { tfOps: ['Const', 'Shape', 'Mul', 'AddV2', 'Conv2DBackpropInput', 'Pad', 'StridedSlice', 'BiasAdd'], lower: convTranspose },
  bn: { tfOps: ['Const', 'FusedBatchNormV3'], lower: batchNorm },
  relu: unary('Relu'),
  relu6: unary('Relu6'),
  sigmoid: unary('Sigmoid'),
  hsigmoid: {
    tfOps: ['Const', 'AddV2', 'Relu6', 'Mul'],
    // MobileNetV3's relu6(x + 3) / 6, not tf.hardSigmoid-style 0.2x + 0.5
    lower: (e) => {
      const shifted = e.op('add3', 'AddV2', [e.inputs[0], e.f32('three', [], [3])], T);
      return e.op('div6', 'Mul', [e.op('relu6', 'Relu6', [shifted], T), e.f32('sixth', [], [1 / 6])], T);
    },
  },
  add: { tfOps: ['AddV2', 'AddN'], lower: (e) => (e.inputs.length === 2 ? e.op('add', 'AddV2', e.inputs, T) : e.op('add', 'AddN', e.inputs, { ...T, N: attr.i(e.inputs.length) })) },
  mul: { tfOps: ['Mul'], lower: (e) => e.op('mul', 'Mul', e.inputs, T) },
  concat: { tfOps: ['Const', 'ConcatV2'], lower: (e) => e.op('concat', 'ConcatV2', [...e.inputs, e.i32('axis', [], [3])], { ...T, N: attr.i(e.inputs.length), Tidx: attr.type('int32') }) },
  resize: { tfOps: ['Const', 'Shape', 'StridedSlice', 'Mul', 'ResizeBilinear', 'ResizeNearestNeighbor'], lower: resize },
  maxpool: { tfOps: ['Const', 'PadV2', 'MaxPool'], lower: (e) => pool(e, 'max') },
  avgpool: { tfOps: ['Const', 'Pad', 'AvgPool'], lower: (e) => pool(e, 'avg') },
  global_avgpool: { tfOps: ['Const', 'Mean'], lower: (e) => e.op('mean', 'Mean', [e.inputs[0], e.i32('axes', [2], [1, 2])], { ...T, Tidx: attr.type('int32'), keep_dims: attr.b(true) }) },
  // inference: dropout is the identity
  dropout: unary('Identity'),
  identity: unary('Identity'),
} satisfies Record<OpKind, TfjsGraphLowering>;

/** Every TF op an emitted graph may hold. */
export const TFJS_GRAPH_OPS: readonly string[] = [...new Set(['Placeholder', 'Identity', ...Object.values(TFJS_GRAPH_LOWERINGS).flatMap((l) => l.tfOps)])].sort();
