// The TF.js kernel of every op (NHWC), keyed by OpKind so an op without one is a type error.
// Padding is explicit and symmetric everywhere (never TF's "SAME", which pads bottom/right).
import type { Tensor, Tensor4D } from '@tensorflow/tfjs';
import type { Attrs } from '../ir/graph.js';
import { padOf, type OpKind } from '../ir/ops.js';
import type { TF } from './backend.js';
import { addTrain, batchNormTrain, convTrain, convTransposeTrain, GRAD_OPTIONS, maxPoolTrain, padArg, reluTrain, resizeTrain } from './gradients.js';

export interface KernelContext {
  tf: TF;
  inputs: Tensor4D[];
  attrs: Attrs;
  /** this node's weights by name (kernel, bias, gamma, ...) */
  w: Record<string, Tensor>;
  /** the shape of the `like` node, for resize */
  like?: readonly number[];
  training: boolean;
  /** training mode: false where the first input is the data, whose gradient nobody reads */
  inputGrad?: boolean;
  /** BatchNorm in training mode reports the batch statistics it used here */
  batchStats?: (mean: Tensor, variance: Tensor) => void;
}

export type Kernel = (k: KernelContext) => Tensor;

const pair = (v: unknown) => [...(v as readonly number[])] as [number, number];


/**
 * conv + bias + activation in one TF.js fused kernel where the shape allows (inference: XNNPACK
 * applies bias and clamp while writing the output, saving two passes over it); otherwise the
 * plain kernel followed by the activation.
 */
export function fusedConv(k: KernelContext, activation: 'relu' | 'relu6' | 'linear'): Tensor {
  const { tf, attrs } = k;
  const [x] = k.inputs;
  const s = pair(attrs.stride);
  const d = pair(attrs.dilation);
  const [ph, pw] = padOf(attrs);
  const groups = attrs.groups as number;
  const kernel = k.w.kernel as Tensor4D;
  const bias = k.w.bias as Tensor | undefined;
  const stridedDilated = (d[0] > 1 || d[1] > 1) && (s[0] > 1 || s[1] > 1);
  if (!stridedDilated && groups === 1) return tf.fused.conv2d({ x, filter: kernel, strides: s, pad: padArg(ph, pw), dilations: d, bias, activation });
  // TF.js's fused depthwise conv takes square padding only
  if (!stridedDilated && groups === x.shape[3] && kernel.shape[3] === groups && ph === pw) {
    const filter = tf.reshape(kernel, [kernel.shape[0], kernel.shape[1], groups, 1]) as Tensor4D;
    return tf.fused.depthwiseConv2d({ x, filter, strides: s, pad: ph, dilations: d, bias, activation });
  }
  const y = conv(k);
  return activation === 'relu' ? tf.relu(y) : activation === 'relu6' ? tf.relu6(y) : y;
}

/**
 * conv(concat(x1, x2, ...)) without building the concat: the kernel splits along its input
 * channels, so the conv is the sum of one conv per part. A part given as `resize` of its source
 * feeds a 1x1 conv: both are linear per pixel and commute, so the conv runs at the low resolution
 * and only its (narrower) output is resized.
 */
export function concatConv(k: KernelContext, parts: { x: Tensor4D; resize?: { size: [number, number]; mode: string } }[], activation: 'relu' | 'relu6' | 'linear'): Tensor {
  const { tf } = k;
  const kernel = k.w.kernel as Tensor4D;
  let at = 0;
  const ys = parts.map(({ x, resize: r }) => {
    const c = x.shape[3];
    const slice = tf.slice(kernel, [0, 0, at, 0], [kernel.shape[0], kernel.shape[1], c, kernel.shape[3]]);
    at += c;
    const y = conv({ ...k, inputs: [x], w: { kernel: slice } });
    return r ? resizeTo(k, y as Tensor4D, r.size, r.mode) : y;
  });
  let y: Tensor = ys.length === 1 ? ys[0] : tf.addN(ys);
  if (k.w.bias) y = tf.add(y, k.w.bias);
  return activation === 'relu' ? tf.relu(y) : activation === 'relu6' ? tf.relu6(y) : y;
}

function conv(k: KernelContext): Tensor {
  const { tf, attrs } = k;
  const [x] = k.inputs;
  const s = pair(attrs.stride);
  const d = pair(attrs.dilation);
  const [ph, pw] = padOf(attrs);
  if (k.training && GRAD_OPTIONS.custom) {
    // hand-written gradients that run on the wasm backend (gradients.ts)
    const y = convTrain(tf, x, k.w.kernel as Tensor4D, { stride: s, dilation: d, pad: [ph, pw], groups: attrs.groups as number, inputGrad: k.inputGrad });
    return k.w.bias ? tf.add(y, k.w.bias) : y;
  }
  const groups = attrs.groups as number;
  const kernel = k.w.kernel as Tensor4D;
  // TF.js refuses stride and dilation both > 1: convolve densely, then subsample
  const dense = d[0] > 1 || d[1] > 1;
  if (groups === 1 && !dense) {
    const y = tf.conv2d(x, kernel, s, padArg(ph, pw), 'NHWC', d);
    return k.w.bias ? tf.add(y, k.w.bias) : y;
  }
  const padded = ph || pw ? tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]]) : x;
  const run = (inp: Tensor4D, ker: Tensor4D) => tf.conv2d(inp, ker, dense ? 1 : s, 'valid', 'NHWC', d);
  let y: Tensor4D;
  if (groups === 1) y = run(padded, kernel);
  else if (groups === x.shape[3] && kernel.shape[3] === groups) {
    y = tf.depthwiseConv2d(padded, tf.reshape(kernel, [kernel.shape[0], kernel.shape[1], groups, 1]) as Tensor4D, dense ? 1 : s, 'valid', 'NHWC', d);
  } else {
    const xs = tf.split(padded, groups, 3);
    const ks = tf.split(kernel, groups, 3);
    y = tf.concat(xs.map((xi, i) => run(xi as Tensor4D, ks[i] as Tensor4D)), 3);
  }
  if (dense && (s[0] > 1 || s[1] > 1)) y = tf.stridedSlice(y, [0, 0, 0, 0], y.shape, [1, s[0], s[1], 1]) as Tensor4D;
  return k.w.bias ? tf.add(y, k.w.bias) : y;
}

function convTranspose(k: KernelContext): Tensor {
  const { tf, attrs } = k;
  const [x] = k.inputs;
  const kernel = k.w.kernel as Tensor4D;
  const [kh, kw] = pair(attrs.kernel);
  const s = pair(attrs.stride);
  const p = pair(attrs.pad);
  const op = pair(attrs.output_pad);
  const [n, h, w] = x.shape;
  const full = [(h - 1) * s[0] + kh, (w - 1) * s[1] + kw];
  const out = [full[0] - 2 * p[0] + op[0], full[1] - 2 * p[1] + op[1]];
  let y: Tensor4D = k.training && GRAD_OPTIONS.custom ? convTransposeTrain(tf, x, kernel, [n, full[0], full[1], kernel.shape[2]], s) : tf.conv2dTranspose(x, kernel, [n, full[0], full[1], kernel.shape[2]], s, 'valid');
  // rows past the full output (output_pad > pad) are zeros, as in PyTorch
  const extra = [Math.max(0, p[0] + out[0] - full[0]), Math.max(0, p[1] + out[1] - full[1])];
  if (extra[0] || extra[1]) y = tf.pad(y, [[0, 0], [0, extra[0]], [0, extra[1]], [0, 0]]);
  y = tf.slice(y, [0, p[0], p[1], 0], [n, out[0], out[1], kernel.shape[2]]);
  return k.w.bias ? tf.add(y, k.w.bias) : y;
}

function batchNorm(k: KernelContext): Tensor {
  const { tf, w } = k;
  const [x] = k.inputs;
  const eps = k.attrs.eps as number;
  if (!k.training) return tf.batchNorm(x, w.mean, w.variance, w.beta, w.gamma, eps);
  // closed-form gradient; the moments stay inside the custom op, so autodiff never walks them
  if (GRAD_OPTIONS.custom) return batchNormTrain(tf, x, w.gamma, w.beta, eps, k.batchStats);
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  k.batchStats?.(mean, variance);
  return tf.batchNorm(x, mean, variance, w.beta, w.gamma, eps);
}

function pool(k: KernelContext, kind: 'max' | 'avg'): Tensor {
  const { tf, attrs } = k;
  const [ph, pw] = pair(attrs.pad);
  // TF.js's wasm MaxPoolGrad loses gradients beyond the first image and channel (gradients.ts)
  if (kind === 'max' && k.training && GRAD_OPTIONS.custom) return maxPoolTrain(tf, k.inputs[0], pair(attrs.kernel), pair(attrs.stride), [ph, pw]);
  // max: padding never wins; avg: zeros are counted (PyTorch's count_include_pad)
  const x = ph || pw ? k.tf.pad(k.inputs[0], [[0, 0], [ph, ph], [pw, pw], [0, 0]], kind === 'max' ? -Infinity : 0) : k.inputs[0];
  return kind === 'max' ? tf.maxPool(x, pair(attrs.kernel), pair(attrs.stride), 'valid') : tf.avgPool(x, pair(attrs.kernel), pair(attrs.stride), 'valid');
}

function resize(k: KernelContext): Tensor {
  const { attrs } = k;
  const [x] = k.inputs;
  const [, h, w] = x.shape;
  const size: [number, number] =
    attrs.scale !== undefined ? [h * (attrs.scale as number), w * (attrs.scale as number)] : attrs.size !== undefined ? [pair(attrs.size)[0], pair(attrs.size)[1]] : [k.like![1], k.like![2]];
  return resizeTo(k, x, size, attrs.mode as string);
}

function resizeTo({ tf, training }: KernelContext, x: Tensor4D, size: [number, number], mode: string): Tensor4D {
  // TF.js's own resize gradient ignores halfPixelCenters: train through the exact transpose
  if (training && GRAD_OPTIONS.custom) return resizeTrain(tf, x, size, mode === 'nearest' ? 'nearest' : 'bilinear');
  return mode === 'nearest' ? tf.image.resizeNearestNeighbor(x, size, false, true) : tf.image.resizeBilinear(x, size, false, true);
}

export const TFJS_KERNELS = {
  conv,
  conv_transpose: convTranspose,
  bn: batchNorm,
  relu: ({ tf, inputs, training }) => (training && GRAD_OPTIONS.custom ? reluTrain(tf, inputs[0], false) : tf.relu(inputs[0])),
  relu6: ({ tf, inputs, training }) => (training && GRAD_OPTIONS.custom ? reluTrain(tf, inputs[0], true) : tf.relu6(inputs[0])),
  sigmoid: ({ tf, inputs }) => tf.sigmoid(inputs[0]),
  // MobileNetV3's relu6(x + 3) / 6, not tf.hardSigmoid-style 0.2x + 0.5
  hsigmoid: ({ tf, inputs }) => tf.mul(tf.relu6(tf.add(inputs[0], 3)), 1 / 6),
  add: ({ tf, inputs, training }) => (training && GRAD_OPTIONS.custom ? addTrain(tf, inputs) : tf.addN(inputs)),
  mul: ({ tf, inputs }) => tf.mul(inputs[0], inputs[1]),
  concat: ({ tf, inputs }) => tf.concat(inputs, 3),
  resize,
  maxpool: (k) => pool(k, 'max'),
  avgpool: (k) => pool(k, 'avg'),
  global_avgpool: ({ tf, inputs }) => tf.mean(inputs[0], [1, 2], true),
  dropout: ({ tf, inputs, attrs, training }) => (training && (attrs.rate as number) > 0 ? tf.dropout(inputs[0], attrs.rate as number) : inputs[0]),
  identity: ({ inputs }) => inputs[0],
} satisfies Record<OpKind, Kernel>;
