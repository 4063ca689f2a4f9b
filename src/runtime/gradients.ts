// Training-mode kernels with hand-written gradients (tf.customGrad), used by kernels.ts when
// `training` is true. Why each exists (PERF-NOTES.md, TOOLCHAIN.md; TF.js 4.22):
// - resize: TF.js's ResizeBilinear gradient ignores halfPixelCenters, so every layer below an
//   upsample gets a wrong gradient without any error. Ours is the exact transpose of the half-pixel
//   interpolation: for an integer factor f, per axis a stride-f depthwise conv with a fixed 3f-tap
//   kernel over the symmetric-mirror-padded gradient (the mirror folds the clamped border taps back
//   in), for f = 2 the same as two average pools; for any other ratio, the transposed
//   interpolation matrix as a matMul.
// - conv: the wasm backend has no Conv2DBackpropFilter kernel and a slow Conv2DBackpropInput
//   (~10x its forward conv). The input gradient is a forward conv with the flipped, transposed
//   kernel (strides: over the zero-dilated gradient); the filter gradient is one forward conv with
//   batch and channels swapped (measured faster on wasm than im2col, whose slices copy slowly
//   there; im2col + a matMul with no transposed first operand remains for stride and dilation
//   both > 1; wasm's matMul with a transposed first operand runs at ~2.5 GFLOP/s against ~30).
// - maxpool: wasm's MaxPoolGrad drops gradients beyond the first image and channel.
// - bn: autodiff through the batch moments costs 2.4x this closed form (dx, dgamma, dbeta); the
//   moments are taken inside the custom op (no tape there) with a global average pool (wasm's
//   Mean over leading axes is ~50x slower).
// - add, relu, relu6: only to hold their saved tensors without the copy TF.js makes (`custom`).
// The forward values are the same kernels the executor uses, so only the backward changes.
// What bought the most, measured on AL-Net at 256x256, batch 4 (3.5 s -> 2.4 s per step): the
// concat split and resize commuted in training too (inference-plan.ts), BN means as a pool, held
// instead of copied saves, the kernel flip as a permutation matMul, no gradient for the image.
import type { Tensor, Tensor1D, Tensor2D, Tensor4D } from '@tensorflow/tfjs';
import type { TF } from './backend.js';
import { interpolationMatrix } from '../ir/interpolation.js';

type P2 = [number, number];
type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

/** Choices measured by bench/train.ts; the defaults are the faster ones on wasm. */
export const GRAD_OPTIONS = {
  /** training mode uses these kernels; false falls back to TF.js's stock gradients (tests compare the two) */
  custom: true,
  /** input gradient of a strided conv: zero-dilate dy and run a forward conv, or TF.js conv2dTranspose */
  stridedInputGrad: 'dilate' as 'dilate' | 'transpose',
  /** filter gradient of a dense conv: one conv with batch and channels swapped, or im2col + matMul */
  filterGrad: 'swapped' as 'swapped' | 'im2col',
  /** at most this many floats in one im2col block (the batch is split into chunks beyond it) */
  im2colMaxFloats: 1 << 24,
};

export interface ConvGeometry {
  stride: P2;
  dilation: P2;
  pad: P2;
  groups: number;
  /** false where x is the data (the network's input image): its gradient is returned as zeros, not computed */
  inputGrad?: boolean;
}

type GradFn = (xs: Tensor[], save: (ts: Tensor[]) => void) => { value: Tensor; gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor | Tensor[] };

/** Handles held for gradients that may never run (a node off the loss's path): freed on the next training forward. */
const held = new Set<Tensor>();
export function releaseHeld(): void {
  for (const t of held) t.dispose();
  held.clear();
}

/**
 * tf.customGrad over tensor inputs. What the gradient reads must come through `save`: TF.js runs
 * the forward in its own tidy, so a tensor merely captured by the closure is gone by backprop.
 * TF.js's own save copies every saved tensor (an Identity kernel, ~110 ms per AL-Net step on
 * wasm); this one holds a reshape, which shares the data, and frees it once the gradient has run.
 */
const custom = (tf: TF, fn: GradFn) => {
  const op = (...xs: Tensor[]) => {
    const tapeOn = (tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn();
    let saved: Tensor[] = [];
    const save = (ts: Tensor[]) => {
      if (!tapeOn) return; // no backward will read them
      saved = ts.map((t) => tf.keep(tf.reshape(t, t.shape)));
      for (const t of saved) held.add(t);
    };
    const inner = tf.customGrad(((...args: unknown[]) => {
      const { value, gradFunc } = fn(args.slice(0, -1) as Tensor[], save);
      return {
        value,
        gradFunc: (dy: Tensor) => {
          const grads = gradFunc(dy, saved);
          for (const t of saved) {
            t.dispose();
            held.delete(t);
          }
          return grads;
        },
      };
    }) as unknown as Parameters<TF['customGrad']>[0]) as (...ts: Tensor[]) => Tensor;
    return inner(...xs);
  };
  return op;
};

/** Pads (positive) or crops (negative) the spatial axes of an NHWC tensor. */
function padOrCrop(tf: TF, x: Tensor4D, [top, bottom]: P2, [left, right]: P2): Tensor4D {
  let y = x;
  if (top > 0 || bottom > 0 || left > 0 || right > 0) y = tf.pad(y, [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]]);
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const [n, h, w, c] = y.shape;
    const t = Math.max(0, -top);
    const l = Math.max(0, -left);
    y = tf.slice(y, [0, t, l, 0], [n, h - t - Math.max(0, -bottom), w - l - Math.max(0, -right), c]);
  }
  return y;
}

/** Inserts s-1 zero rows (columns) after every row (column): [N, H, W, C] -> [N, H*sh, W*sw, C]. */
function zeroDilate(tf: TF, x: Tensor4D, [sh, sw]: P2): Tensor4D {
  let y = x;
  if (sh > 1) {
    const z = tf.zerosLike(y);
    const [n, h, w, c] = y.shape;
    y = tf.reshape(tf.stack([y, ...Array.from({ length: sh - 1 }, () => z)], 2), [n, h * sh, w, c]) as Tensor4D;
  }
  if (sw > 1) {
    const z = tf.zerosLike(y);
    const [n, h, w, c] = y.shape;
    y = tf.reshape(tf.stack([y, ...Array.from({ length: sw - 1 }, () => z)], 3), [n, h, w * sw, c]) as Tensor4D;
  }
  return y;
}

/** Explicit symmetric padding in the form TF.js takes it (a single number when square). */
export const padArg = (ph: number, pw: number) => (ph === pw ? ph : ([[0, 0], [ph, ph], [pw, pw], [0, 0]] as Pad4));

/** The plain forward conv (groups 1, or depthwise when `depthwise`), as kernels.ts runs it. */
function convForward(tf: TF, x: Tensor4D, kernel: Tensor4D, g: ConvGeometry, depthwise: boolean): Tensor4D {
  const { stride: s, dilation: d, pad: [ph, pw] } = g;
  const dense = d[0] > 1 || d[1] > 1;
  // the conv pads while reading: no separate pass over the input
  if (!depthwise && !dense) return tf.conv2d(x, kernel, s, padArg(ph, pw), 'NHWC', d);
  const padded = ph || pw ? tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]]) : x;
  let y: Tensor4D = depthwise
    ? tf.depthwiseConv2d(padded, tf.reshape(kernel, [kernel.shape[0], kernel.shape[1], kernel.shape[3], 1]) as Tensor4D, dense ? 1 : s, 'valid', 'NHWC', d)
    : tf.conv2d(padded, kernel, dense ? 1 : s, 'valid', 'NHWC', d);
  if (dense && (s[0] > 1 || s[1] > 1)) y = tf.stridedSlice(y, [0, 0, 0, 0], y.shape, [1, s[0], s[1], 1]) as Tensor4D;
  return y;
}

/**
 * The kernel rotated by 180 degrees in (kh, kw). Flipping both axes reverses the flattened kh*kw
 * axis, done as a [k, k] anti-diagonal permutation matMul: wasm's Reverse kernel takes ~17 ms on a
 * 3x3x128x640 kernel, the matMul ~1 ms.
 */
export function flipSpatial(tf: TF, kernel: Tensor4D): Tensor4D {
  const [kh, kw, ci, co] = kernel.shape;
  const k = kh * kw;
  if (k === 1) return kernel;
  const perm = new Float32Array(k * k);
  for (let i = 0; i < k; i++) perm[i * k + (k - 1 - i)] = 1;
  return tf.reshape(tf.matMul(tf.tensor2d(perm, [k, k]), tf.reshape(kernel, [k, ci * co]) as Tensor2D), [kh, kw, ci, co]) as Tensor4D;
}

/**
 * Per-channel means of an NHWC tensor over N, H, W, as one average pool over the whole
 * [1, N*H, W, C] view (XNNPACK's global average pooling). On wasm, Mean over the leading axes takes
 * ~10 ms on 4x128x128x32 and a transposed-first GEMV against ones ~2 ms; this pool ~0.2 ms.
 */
export function channelMeans(tf: TF, x: Tensor4D): Tensor1D {
  const [n, h, w, c] = x.shape;
  return tf.reshape(tf.avgPool(tf.reshape(x, [1, n * h, w, c]) as Tensor4D, [n * h, w], 1, 'valid'), [c]) as Tensor1D;
}

/** Batch mean and biased variance over N, H, W (two passes, as tf.moments). */
export function batchMoments(tf: TF, x: Tensor4D): { mean: Tensor1D; variance: Tensor1D } {
  const mean = channelMeans(tf, x);
  const variance = channelMeans(tf, tf.square(tf.sub(x, mean)) as Tensor4D);
  return { mean, variance };
}

/** dL/dx of the conv: a stride-1 forward conv of the (zero-dilated, padded) dy with the flipped kernel. */
function convInputGrad(tf: TF, dy: Tensor4D, xShape: number[], kernel: Tensor4D, g: ConvGeometry, depthwise: boolean): Tensor4D {
  const { stride: s, dilation: d, pad: [ph, pw] } = g;
  const [n, h, w, c] = xShape;
  const [kh, kw] = kernel.shape;
  const strided = s[0] > 1 || s[1] > 1;
  if (strided && !depthwise && GRAD_OPTIONS.stridedInputGrad === 'transpose' && d[0] === 1 && d[1] === 1) {
    // TF.js's Conv2DBackpropInput on the padded input's size, then crop the padding
    const hp = h + 2 * ph;
    const wp = w + 2 * pw;
    const full = tf.conv2dTranspose(dy, kernel, [n, hp, wp, c], s, 'valid');
    return ph || pw ? tf.slice(full, [0, ph, pw, 0], [n, h, w, c]) : full;
  }
  const dd = strided ? zeroDilate(tf, dy, s) : dy;
  const ext = [d[0] * (kh - 1), d[1] * (kw - 1)];
  const lo: P2 = [ext[0] - ph, ext[1] - pw];
  const hi: P2 = [h + ext[0] - lo[0] - dd.shape[1], w + ext[1] - lo[1] - dd.shape[2]];
  const flipped = flipSpatial(tf, kernel);
  if (!depthwise && Math.min(...lo, ...hi) >= 0) {
    // the conv pads while reading: no separate pass over dy
    return tf.conv2d(dd, tf.transpose(flipped, [0, 1, 3, 2]) as Tensor4D, 1, [[0, 0], [lo[0], hi[0]], [lo[1], hi[1]], [0, 0]], 'NHWC', d);
  }
  const padded = padOrCrop(tf, dd, [lo[0], hi[0]], [lo[1], hi[1]]);
  if (depthwise) return tf.depthwiseConv2d(padded, tf.reshape(flipped, [kh, kw, c, 1]) as Tensor4D, 1, 'valid', 'NHWC', d);
  return tf.conv2d(padded, tf.transpose(flipped, [0, 1, 3, 2]) as Tensor4D, 1, 'valid', 'NHWC', d);
}

/** The k*k taps of the padded input, each [N, OH, OW, C] (strided slices). */
function taps(tf: TF, xp: Tensor4D, kh: number, kw: number, oh: number, ow: number, g: ConvGeometry): Tensor4D[] {
  const { stride: s, dilation: d } = g;
  const [n, , , c] = xp.shape;
  const out: Tensor4D[] = [];
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++) {
      const begin = [0, i * d[0], j * d[1], 0];
      if (s[0] === 1 && s[1] === 1) out.push(tf.slice(xp, begin, [n, oh, ow, c]));
      else out.push(tf.stridedSlice(xp, begin, [n, begin[1] + (oh - 1) * s[0] + 1, begin[2] + (ow - 1) * s[1] + 1, c], [1, s[0], s[1], 1]) as Tensor4D);
    }
  return out;
}

/**
 * dL/dkernel of a dense conv. Measured on wasm (4x128x128x96 -> 32, 3x3): forward conv 120 ms;
 * im2col's 9 slices + concat alone 420 ms (wasm's Slice and StridedSlice copy slowly; strided
 * taps 1.4 s), its matMul 130 ms as [K, M] x [M, O] but 310 ms as [O, M] x [M, K] and 1.5 s with a
 * transposed first operand; the same sum as one forward conv with batch and channels swapped
 * (x^T [C, Hp, Wp, N] conv dy^T [OH, OW, N, O], the stride becoming its dilation) 240 ms. So:
 * 1x1 stride 1: transpose(x) [C, M] x dy [M, O]; otherwise the swapped conv; im2col only where
 * TF.js refuses a conv with both stride and dilation > 1.
 */
function convFilterGrad(tf: TF, dy: Tensor4D, x: Tensor4D, kernelShape: number[], g: ConvGeometry): Tensor4D {
  const [kh, kw, ci, co] = kernelShape;
  const { stride: s, dilation: d, pad: [ph, pw] } = g;
  const [n, h, w] = x.shape;
  const [, oh, ow] = dy.shape;
  const strided = s[0] > 1 || s[1] > 1;
  if (kh === 1 && kw === 1 && ph === 0 && pw === 0) {
    // a 1x1 max pool with the conv's stride reads exactly the pixels the conv reads (no slow
    // strided slice), then [C, M] x [M, O]
    const xs = strided ? tf.maxPool(x, 1, s, 'valid') : x;
    const xt = tf.transpose(tf.reshape(xs, [n * oh * ow, ci])) as Tensor2D;
    return tf.reshape(tf.matMul(xt, tf.reshape(dy, [n * oh * ow, co]) as Tensor2D), [1, 1, ci, co]) as Tensor4D;
  }
  const stridedDilated = strided && (d[0] > 1 || d[1] > 1);
  if (!stridedDilated && GRAD_OPTIONS.filterGrad === 'swapped') {
    // rows past the last window (the floor in the output size) take no part: pad less at the
    // bottom and right instead of cropping afterwards (a slice of a 3-channel image is slow on wasm)
    const need = [(kh - 1) * d[0] + (oh - 1) * s[0] + 1, (kw - 1) * d[1] + (ow - 1) * s[1] + 1];
    const hi: P2 = [need[0] - h - ph, need[1] - w - pw];
    const dyt = tf.transpose(dy, [1, 2, 0, 3]) as Tensor4D;
    if (Math.min(...hi) >= 0) {
      // the conv pads while reading: no separate pass over x
      const xt = tf.transpose(x, [3, 1, 2, 0]) as Tensor4D;
      return tf.transpose(tf.conv2d(xt, dyt, d, [[0, 0], [ph, hi[0]], [pw, hi[1]], [0, 0]], 'NHWC', s), [1, 2, 0, 3]) as Tensor4D;
    }
    const xt = tf.transpose(padOrCrop(tf, x, [ph, hi[0]], [pw, hi[1]]), [3, 1, 2, 0]) as Tensor4D;
    return tf.transpose(tf.conv2d(xt, dyt, d, 'valid', 'NHWC', s), [1, 2, 0, 3]) as Tensor4D;
  }
  const xp = ph || pw ? tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]]) : x;
  return im2colFilterGrad(tf, dy, xp, kernelShape, g);
}

/** im2col (k*k strided slices + concat) and one [K, M] x [M, O] matMul, per batch chunk. */
function im2colFilterGrad(tf: TF, dy: Tensor4D, xp: Tensor4D, kernelShape: number[], g: ConvGeometry): Tensor4D {
  const [kh, kw, ci, co] = kernelShape;
  const [n, oh, ow] = dy.shape;
  const perImage = oh * ow * kh * kw * ci;
  const chunk = Math.max(1, Math.min(n, Math.floor(GRAD_OPTIONS.im2colMaxFloats / perImage)));
  const parts: Tensor2D[] = [];
  for (let b = 0; b < n; b += chunk) {
    const m = Math.min(chunk, n - b);
    const xb = m === n ? xp : tf.slice(xp, [b, 0, 0, 0], [m, -1, -1, -1]);
    const dyb = m === n ? dy : tf.slice(dy, [b, 0, 0, 0], [m, -1, -1, -1]);
    const t = taps(tf, xb, kh, kw, oh, ow, g);
    const cols = tf.reshape(t.length === 1 ? t[0] : tf.concat(t, 3), [m * oh * ow, kh * kw * ci]) as Tensor2D;
    parts.push(tf.matMul(tf.transpose(cols), tf.reshape(dyb, [m * oh * ow, co]) as Tensor2D));
  }
  return tf.reshape(parts.length === 1 ? parts[0] : tf.addN(parts), [kh, kw, ci, co]) as Tensor4D;
}

/** dL/dkernel of a depthwise conv: per tap, sum over N, H, W of tap * dy. */
function depthwiseFilterGrad(tf: TF, dy: Tensor4D, x: Tensor4D, kernelShape: number[], g: ConvGeometry): Tensor4D {
  const [kh, kw, , co] = kernelShape;
  const [ph, pw] = g.pad;
  const [, oh, ow] = dy.shape;
  const xp = ph || pw ? tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]]) : x;
  const sums = taps(tf, xp, kh, kw, oh, ow, g).map((t) => tf.mul(channelMeans(tf, tf.mul(t, dy) as Tensor4D), oh * ow * dy.shape[0]));
  return tf.reshape(tf.stack(sums), [kh, kw, 1, co]) as Tensor4D;
}

/**
 * A conv (no bias) whose gradient runs on fast forward kernels. Groups other than 1 and depthwise
 * are split into per-group dense convs (the split and concat differentiate by autodiff).
 */
export function convTrain(tf: TF, x: Tensor4D, kernel: Tensor4D, g: ConvGeometry): Tensor4D {
  const c = x.shape[3];
  const depthwise = g.groups > 1 && g.groups === c && kernel.shape[3] === g.groups;
  if (g.groups > 1 && !depthwise) {
    const xs = tf.split(x, g.groups, 3) as Tensor4D[];
    const ks = tf.split(kernel, g.groups, 3) as Tensor4D[];
    return tf.concat(xs.map((xi, i) => convTrain(tf, xi, ks[i], { ...g, groups: 1 })), 3);
  }
  const f = custom(tf, ([xIn, kIn], save) => {
    save([xIn, kIn]);
    return {
      value: convForward(tf, xIn as Tensor4D, kIn as Tensor4D, g, depthwise),
      gradFunc: (dy, [xs, ks]) => {
        const d4 = dy as Tensor4D;
        const xv = xs as Tensor4D;
        const kv = ks as Tensor4D;
        const dx = g.inputGrad === false ? tf.zerosLike(xv) : convInputGrad(tf, d4, xv.shape, kv, g, depthwise);
        const dk = depthwise ? depthwiseFilterGrad(tf, d4, xv, kv.shape, g) : convFilterGrad(tf, d4, xv, kv.shape, g);
        return [dx, dk];
      },
    };
  });
  return f(x, kernel) as Tensor4D;
}

// ---------------------------------------------------------------------------------------------
// resize

/** The 3f taps of the transposed half-pixel bilinear upsample by an integer factor f (see top). */
function bilinearTransposeTaps(f: number): number[] {
  const k = new Array<number>(3 * f).fill(0);
  for (let j = 0; j < f; j++) {
    const t = (2 * j + 1 - f) / (2 * f);
    k[f + j] = 1 - Math.abs(t);
    if (t > 0) k[j] = t;
    if (t < 0) k[2 * f + j] = -t;
  }
  return k;
}

/** The transpose of resizing one spatial axis (1: H, 2: W) from inLen to dy's length. */
function resizeAxisGrad(tf: TF, dy: Tensor4D, axis: 1 | 2, inLen: number, mode: 'bilinear' | 'nearest'): Tensor4D {
  const [n, h, w, c] = dy.shape;
  const len = dy.shape[axis];
  if (len === inLen) return dy;
  const f = len / inLen;
  if (Number.isInteger(f) && mode === 'nearest') {
    // each input owns its f outputs: sum them
    const shape = axis === 1 ? [n, inLen, f, w, c] : [n, h, inLen, f, c];
    return tf.sum(tf.reshape(dy, shape), axis + 1) as Tensor4D;
  }
  if (f === 2) {
    // input l takes 3/4 of outputs 2l and 2l+1 and 1/4 of 2l-1 and 2l+2: the mean of a 4-window
    // over the mirror-padded dy plus the mean of a 2-window, each a stride-2 average pool (5x
    // faster on wasm than the 6-tap depthwise conv below)
    const pads: Pad4 = [[0, 0], [0, 0], [0, 0], [0, 0]];
    pads[axis] = [1, 1];
    const [k4, k2, st]: [number, number][] = axis === 1 ? [[4, 1], [2, 1], [2, 1]] : [[1, 4], [1, 2], [1, 2]];
    return tf.add(tf.avgPool(tf.mirrorPad(dy, pads, 'symmetric'), k4, st, 'valid'), tf.avgPool(dy, k2, st, 'valid')) as Tensor4D;
  }
  if (Number.isInteger(f)) {
    const pads: Pad4 = [[0, 0], [0, 0], [0, 0], [0, 0]];
    pads[axis] = [f, f];
    const padded = tf.mirrorPad(dy, pads, 'symmetric');
    const taps = bilinearTransposeTaps(f);
    const kshape = axis === 1 ? [3 * f, 1, c, 1] : [1, 3 * f, c, 1];
    const kernel = tf.tensor4d(taps.flatMap((t) => new Array<number>(c).fill(t)), kshape as [number, number, number, number]);
    return tf.depthwiseConv2d(padded, kernel, axis === 1 ? [f, 1] : [1, f], 'valid');
  }
  // any other ratio: the transposed interpolation matrix, [in, out], as a matMul
  const at = tf.transpose(tf.tensor2d(interpolationMatrix(inLen, len, mode), [len, inLen])) as Tensor2D;
  if (axis === 1) return tf.reshape(tf.matMul(at, tf.reshape(dy, [n, h, w * c])), [n, inLen, w, c]) as Tensor4D;
  return tf.reshape(tf.matMul(at, tf.reshape(dy, [n * h, w, c])), [n, h, inLen, c]) as Tensor4D;
}

/** Half-pixel resize (TF.js's own forward) with the correct gradient. */
export function resizeTrain(tf: TF, x: Tensor4D, size: P2, mode: 'bilinear' | 'nearest'): Tensor4D {
  const [, h, w] = x.shape;
  const f = custom(tf, ([xIn]) => {
    const xv = xIn as Tensor4D;
    return {
      value: mode === 'nearest' ? tf.image.resizeNearestNeighbor(xv, size, false, true) : tf.image.resizeBilinear(xv, size, false, true),
      gradFunc: (dy: Tensor) => resizeAxisGrad(tf, resizeAxisGrad(tf, dy as Tensor4D, 1, h, mode), 2, w, mode),
    };
  });
  return f(x) as Tensor4D;
}

// ---------------------------------------------------------------------------------------------
// add

/**
 * addN whose gradient hands dy to every input as a reshape (which shares dy's data): TF.js's own
 * AddN gradient clones dy once per input, three full copies per RepVGG block.
 */
export function addTrain(tf: TF, xs: Tensor[]): Tensor {
  if (xs.length === 1) return xs[0];
  const f = custom(tf, (ins) => ({ value: tf.addN(ins), gradFunc: (dy) => ins.map(() => tf.reshape(dy, dy.shape)) }));
  return f(...xs);
}

// ---------------------------------------------------------------------------------------------
// relu, relu6

/** relu / relu6 with TF.js's own gradient rule, but holding x instead of copying it (see `custom`). */
export function reluTrain(tf: TF, x: Tensor, six: boolean): Tensor {
  const f = custom(tf, ([xIn], save) => {
    save([xIn]);
    return {
      value: six ? tf.relu6(xIn) : tf.relu(xIn),
      gradFunc: (dy, [xv]) => tf.mul(dy, six ? tf.mul(tf.cast(tf.lessEqual(xv, 6), 'float32'), tf.step(xv)) : tf.step(xv)),
    };
  });
  return f(x);
}

// ---------------------------------------------------------------------------------------------
// batch norm

/**
 * BatchNorm on the batch statistics (mean and biased variance over N, H, W; `onStats` sees them)
 * with the closed-form gradient that accounts for their dependence on x:
 *   xc = x - mean, a = gamma / sqrt(var + eps), dbeta = sum dy, dgamma = sum(dy * xc) * rstd,
 *   dx = a * (dy - mean(dy) - xc * rstd^2 * mean(dy * xc))
 * The statistics enter only through this closure, so TF.js never differentiates the moments.
 */
export function batchNormTrain(tf: TF, x: Tensor4D, gamma: Tensor, beta: Tensor, eps: number, onStats?: (mean: Tensor, variance: Tensor) => void): Tensor4D {
  const m = x.shape[0] * x.shape[1] * x.shape[2];
  const f = custom(tf, ([xIn, gIn, bIn], save) => {
    // inside the custom op the tape is off: the moments' kernels save nothing for a backward
    const { mean, variance } = batchMoments(tf, xIn as Tensor4D);
    onStats?.(mean, variance);
    save([xIn, gIn, mean, variance]);
    return {
      // TF.js's fused kernel: one pass over the activation
      value: tf.batchNorm(xIn as Tensor4D, mean, variance, bIn, gIn, eps),
      gradFunc: (dy, [xv, gv, mv, vv]) => {
        const d4 = dy as Tensor4D;
        const rs = tf.rsqrt(tf.add(vv, eps));
        const av = tf.mul(gv, rs);
        const xc = tf.sub(xv, mv);
        const meanDy = channelMeans(tf, d4);
        const meanDyXc = channelMeans(tf, tf.mul(d4, xc) as Tensor4D);
        // dx = dy * a + xc * b + c
        const b = tf.mul(tf.neg(av), tf.mul(tf.square(rs), meanDyXc));
        const c = tf.mul(tf.neg(av), meanDy);
        const dx = tf.add(tf.add(tf.mul(d4, av), tf.mul(xc, b)), c);
        return [dx, tf.mul(tf.mul(meanDyXc, rs), m), tf.mul(meanDy, m)];
      },
    };
  });
  return f(x, gamma, beta) as Tensor4D;
}

// ---------------------------------------------------------------------------------------------
// conv_transpose

/**
 * TF.js's conv2dTranspose ('valid', the full output) with gradients on forward kernels: it is the
 * input gradient of a conv, so dx is that conv (stride s) of dy, and dkernel the conv's filter
 * gradient with the roles of input and output swapped.
 */
export function convTransposeTrain(tf: TF, x: Tensor4D, kernel: Tensor4D, outShape: [number, number, number, number], stride: P2): Tensor4D {
  const g: ConvGeometry = { stride, dilation: [1, 1], pad: [0, 0], groups: 1 };
  const f = custom(tf, ([xIn, kIn], save) => {
    save([xIn, kIn]);
    return {
      value: tf.conv2dTranspose(xIn as Tensor4D, kIn as Tensor4D, outShape, stride, 'valid'),
      gradFunc: (dy, [xs, ks]) => {
        const d4 = dy as Tensor4D;
        const xv = xs as Tensor4D;
        const kv = ks as Tensor4D;
        const dx = tf.conv2d(d4, kv, stride, 'valid');
        // the transposed conv's kernel is [kh, kw, out, cin]: the conv "dy -> x" has that layout
        const dk = convFilterGrad(tf, xv, d4, kv.shape, g);
        return [dx, dk];
      },
    };
  });
  return f(x, kernel) as Tensor4D;
}

// ---------------------------------------------------------------------------------------------
// max pool

/**
 * Max pool over the -inf-padded input, as kernels.ts runs it, with a gradient that routes dy to the
 * first maximum of each window (TF's rule). TF.js 4.22's wasm MaxPoolGrad drops gradients beyond
 * the first image and channel (measured: batch 2 or 2 channels lose entries), so it is not used.
 */
export function maxPoolTrain(tf: TF, x: Tensor4D, kernel: P2, stride: P2, pad: P2): Tensor4D {
  const [ph, pw] = pad;
  const [kh, kw] = kernel;
  const g: ConvGeometry = { stride, dilation: [1, 1], pad, groups: 1 };
  const f = custom(tf, ([xIn], save) => {
    const xp = ph || pw ? tf.pad(xIn as Tensor4D, [[0, 0], [ph, ph], [pw, pw], [0, 0]], -Infinity) : (xIn as Tensor4D);
    const y = tf.maxPool(xp, kernel, stride, 'valid');
    save([xIn, y]);
    return {
      value: y,
      gradFunc: (dy, [xs, ys]) => {
        const xv = xs as Tensor4D;
        const [n, h, w, c] = xv.shape;
        const [, oh, ow] = ys.shape;
        const xpad = ph || pw ? tf.pad(xv, [[0, 0], [ph, ph], [pw, pw], [0, 0]], -Infinity) : xv;
        const hp = h + 2 * ph;
        const wp = w + 2 * pw;
        let taken: Tensor = tf.zerosLike(ys);
        const parts: Tensor4D[] = [];
        taps(tf, xpad, kh, kw, oh, ow, g).forEach((t, k) => {
          const i = Math.floor(k / kw);
          const j = k % kw;
          const hit = tf.mul(tf.cast(tf.equal(t, ys), 'float32'), tf.sub(1, taken));
          taken = tf.add(taken, hit);
          // back to the padded input's coordinates (y * s + i, x * s + j)
          const routed = zeroDilate(tf, tf.mul(dy, hit) as Tensor4D, stride);
          parts.push(padOrCrop(tf, routed, [i, hp - i - routed.shape[1]], [j, wp - j - routed.shape[2]]));
        });
        const dxp = parts.length === 1 ? parts[0] : tf.addN(parts);
        return ph || pw ? tf.slice(dxp, [0, ph, pw, 0], [n, h, w, c]) : dxp;
      },
    };
  });
  return f(x) as Tensor4D;
}
