// Resize as a matrix: the weights of half-pixel (align_corners=False) interpolation along one axis.
// The TF.js and ONNX training steps multiply by its transpose for the resize gradient.

/** The half-pixel interpolation matrix of one axis, [out, in], exactly as TF.js computes it. */
export function interpolationMatrix(inLen: number, outLen: number, mode: 'bilinear' | 'nearest'): Float32Array {
  const a = new Float32Array(outLen * inLen);
  const ratio = inLen / outLen;
  for (let o = 0; o < outLen; o++) {
    if (mode === 'nearest') {
      const src = Math.max(0, Math.min(inLen - 1, Math.floor(ratio * (o + 0.5))));
      a[o * inLen + src] += 1;
      continue;
    }
    const src = ratio * (o + 0.5) - 0.5;
    const lo = Math.max(0, Math.floor(src));
    const frac = src - lo;
    const hi = Math.min(inLen - 1, Math.ceil(src));
    a[o * inLen + lo] += 1 - frac;
    a[o * inLen + hi] += frac;
  }
  return a;
}
