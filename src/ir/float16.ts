// IEEE 754 half precision, decoded: for the weight files alcli reads (safetensors F16, ONNX FLOAT16
// initializers). Node 20 has no Float16Array or DataView.getFloat16.

/** The number a half-precision bit pattern (16 bits, as an unsigned integer) holds: subnormals, infinities and NaN included. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}
