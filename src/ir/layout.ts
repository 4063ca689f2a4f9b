// Axis permutation of a dense row-major array: TF weight layouts to ONNX ones, NHWC to NCHW and back.
import type { OpKind } from './ops.js';

/** Whether a weight is a conv kernel: stored HWIO by alcli (TF.js), OIHW by ONNX and PyTorch. */
export const isKernel = (op: OpKind, param: string) => (op === 'conv' || op === 'conv_transpose') && param === 'kernel';

/**
 * HWIO [kh, kw, cin/groups, out] -> OIHW, the kernel layout of ONNX and PyTorch; a transposed conv's
 * [kh, kw, out, cin] -> IOHW, their transposed layout: the same permutation.
 */
export const HWIO_TO_OIHW = [3, 2, 0, 1] as const;
/** OIHW -> HWIO, the inverse of HWIO_TO_OIHW. */
export const OIHW_TO_HWIO = [2, 3, 1, 0] as const;

/** out[i_perm[0], i_perm[1], ...] = data[i_0, i_1, ...]; the output shape is shape[perm[k]] at axis k. */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  if (perm.length !== rank || [...perm].sort().some((p, i) => p !== i)) throw new Error(`bad permutation [${perm}] for rank ${rank}`);
  const outShape = perm.map((p) => shape[p]);
  const inStrides = stridesOf(shape);
  // the input stride that each output axis walks along
  const walk = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src];
    for (let a = rank - 1; a >= 0; a--) {
      src += walk[a];
      if (++idx[a] < outShape[a]) break;
      src -= walk[a] * outShape[a];
      idx[a] = 0;
    }
  }
  return out;
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let a = shape.length - 2; a >= 0; a--) s[a] = s[a + 1] * shape[a + 1];
  return s;
}

export const nhwcToNchw = (data: Float32Array, [n, h, w, c]: readonly number[]) => permute(data, [n, h, w, c], [0, 3, 1, 2]);
export const nchwToNhwc = (data: Float32Array, [n, c, h, w]: readonly number[]) => permute(data, [n, c, h, w], [0, 2, 3, 1]);
