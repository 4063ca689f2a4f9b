// IEEE 754 half precision, both ways: decoded for the weight files alcli reads (safetensors F16,
// ONNX FLOAT16 initializers), encoded for the ones it writes (TF.js float16 weight storage, fp16
// ONNX). Node 20 has no Float16Array or DataView.getFloat16/setFloat16.

/** The number a half-precision bit pattern (16 bits, as an unsigned integer) holds: subnormals, infinities and NaN included. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** `bits` shifted right by `shift`, rounded to nearest, ties to even (the IEEE default). */
function shiftRoundEven(bits: number, shift: number): number {
  const kept = bits >>> shift;
  const rest = bits & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && kept & 1) ? kept + 1 : kept;
}

/**
 * The half-precision bit pattern nearest to `x` rounded to float32 first (as numpy's
 * `float32.astype(float16)` and tfjs-converter do): round to nearest, ties to even; beyond the
 * largest half (65504, plus half a step: 65520) to +-Infinity; below 2^-14 to a subnormal
 * (multiples of 2^-24), and 2^-25 or less to a signed zero; NaN to a quiet NaN (0x7e00 with the sign).
 */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | (mant ? 0x7e00 : 0x7c00);
  // float32 exponent 113 is 2^-14, the smallest normal half; 142 is 2^15, the largest
  if (exp > 142) return sign | 0x7c00;
  // normal: rebias the exponent, keep 10 of 23 mantissa bits; a carry out of the mantissa bumps
  // the exponent, and out of 2^15 gives 0x7c00 (Infinity), both by plain addition
  if (exp >= 113) return sign | shiftRoundEven(((exp - 112) << 23) | mant, 13);
  // subnormal: value = (1.mant) * 2^(exp-127) = m * 2^-24 with m = (mant | 2^23) >> (126 - exp)
  if (exp < 102) return sign; // below 2^-25 (and float32 subnormals): zero
  return sign | shiftRoundEven(mant | 0x800000, 126 - exp);
}

/** Every value of `data` as half-precision bit patterns (floatToHalf), in order. */
export function encodeHalf(data: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = floatToHalf(data[i]);
  return out;
}
