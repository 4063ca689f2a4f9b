// The algebra the passes apply to weights, on plain Float32Arrays. Conv kernels are TF's layout
// [kh, kw, cin/groups, out], so the out channel is the fastest-moving index; a transposed conv's
// kernel is [kh, kw, out, cin].
import type { Tensor32 } from '../ir/weights.js';

/** BatchNorm in inference mode as y = scale * x + shift, per channel. */
export function bnAffine(gamma: Tensor32, beta: Tensor32, mean: Tensor32, variance: Tensor32, eps: number): { scale: Float32Array; shift: Float32Array } {
  const c = gamma.data.length;
  const scale = new Float32Array(c);
  const shift = new Float32Array(c);
  for (let i = 0; i < c; i++) {
    // double precision here keeps the folded weights within fp32 rounding of the unfused ones
    const s = gamma.data[i] / Math.sqrt(variance.data[i] + eps);
    scale[i] = s;
    shift[i] = beta.data[i] - mean.data[i] * s;
  }
  return { scale, shift };
}

/**
 * conv then BN  ==>  kernel * scale[out], bias * scale + shift (= beta + (bias - mean) * scale).
 * `outAxis` is the kernel's output-channel axis: 3 for a conv, 2 for a transposed conv.
 */
export function foldAffine(kernel: Tensor32, bias: Tensor32 | undefined, scale: Float32Array, shift: Float32Array, outAxis: 2 | 3 = 3): { kernel: Tensor32; bias: Tensor32 } {
  const out = scale.length;
  if (kernel.shape[outAxis] !== out) throw new Error(`foldAffine: kernel [${kernel.shape}] has no ${out} channels on axis ${outAxis}`);
  // elements sharing an output channel come in runs of `inner` (the axes after the output axis)
  const inner = kernel.shape.slice(outAxis + 1).reduce((a, b) => a * b, 1);
  const k = new Float32Array(kernel.data.length);
  for (let i = 0; i < k.length; i++) k[i] = kernel.data[i] * scale[Math.floor(i / inner) % out];
  const b = new Float32Array(out);
  for (let o = 0; o < out; o++) b[o] = (bias ? bias.data[o] * scale[o] : 0) + shift[o];
  return { kernel: { shape: kernel.shape, data: k }, bias: { shape: [out], data: b } };
}

/** Zero-pads a [kh, kw, ci, co] kernel to [KH, KW, ci, co], centred (kh and KH of equal parity). */
export function embedKernel(kernel: Tensor32, KH: number, KW: number): Tensor32 {
  const [kh, kw, ci, co] = kernel.shape;
  const dy = (KH - kh) / 2;
  const dx = (KW - kw) / 2;
  const out = new Float32Array(KH * KW * ci * co);
  const inner = ci * co;
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++) out.set(kernel.data.subarray((y * kw + x) * inner, (y * kw + x + 1) * inner), ((y + dy) * KW + x + dx) * inner);
  return { shape: [KH, KW, ci, co], data: out };
}

/** The kernel of `scale[c] * x[c]` as a [KH, KW, c/groups, c] conv: one centre tap per channel. */
export function identityKernel(KH: number, KW: number, channels: number, groups: number, scale?: Float32Array): Tensor32 {
  const ci = channels / groups;
  const data = new Float32Array(KH * KW * ci * channels);
  const centre = ((KH - 1) / 2) * KW + (KW - 1) / 2;
  for (let o = 0; o < channels; o++) data[(centre * ci + (o % ci)) * channels + o] = scale ? scale[o] : 1;
  return { shape: [KH, KW, ci, channels], data };
}

export function addInto(target: Float32Array, source: Float32Array): void {
  for (let i = 0; i < target.length; i++) target[i] += source[i];
}
