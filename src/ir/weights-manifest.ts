// Weights on disk in TF.js's weights-manifest format (a manifest group of names, shapes and
// dtypes plus binary shards), as graph models and checkpoints both store them. Pure: bytes in
// and out; the CLI writes and reads the files.
import { encodeHalf } from './float16.js';
import type { WeightStore } from './weights.js';

export interface ManifestTensor {
  name: string;
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

/** How a float32 tensor is stored, as tfjs-core's io decodeWeights reads it back. */
export type WeightQuantization = { dtype: 'float16' } | { dtype: 'uint8'; min: number; scale: number };

/** The storage of float32 tensors in a manifest: as they are, IEEE half, or 8-bit affine per tensor. */
export type WeightDtype = 'float32' | 'float16' | 'uint8';
export const WEIGHT_DTYPES: readonly WeightDtype[] = ['float32', 'float16', 'uint8'];

export interface WeightsManifestEntry {
  paths: string[];
  weights: { name: string; shape: number[]; dtype: 'float32' | 'int32'; quantization?: WeightQuantization }[];
}

/**
 * One manifest group with every tensor in order; its bytes are cut into `group1-shardKofN.bin` every
 * `shardBytes`. `storage` other than float32 stores each float32 tensor quantized (int32 ones stay
 * as they are), with the manifest's `quantization` field, as tfjs-converter's
 * `--quantize_float16` / `--quantize_uint8` write it: 2 or 1 bytes a value instead of 4.
 */
export function packWeights(tensors: readonly ManifestTensor[], shardBytes = Infinity, storage: WeightDtype = 'float32'): { manifest: WeightsManifestEntry[]; weightData: Uint8Array } {
  const stored = tensors.map((t) => (t.dtype === 'float32' && storage !== 'float32' ? quantizeTensor(t.data as Float32Array, storage) : { bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), quantization: undefined }));
  const total = stored.reduce((s, t) => s + t.bytes.byteLength, 0);
  const weightData = new Uint8Array(total);
  let at = 0;
  for (const t of stored) {
    weightData.set(t.bytes, at);
    at += t.bytes.byteLength;
  }
  const shards = Math.max(1, Math.ceil(total / shardBytes));
  const paths = Array.from({ length: shards }, (_, i) => `group1-shard${i + 1}of${shards}.bin`);
  const weights = tensors.map((t, i) => ({ name: t.name, shape: t.shape, dtype: t.dtype, ...(stored[i].quantization ? { quantization: stored[i].quantization } : {}) }));
  return { manifest: [{ paths, weights }], weightData };
}

/**
 * A float32 tensor's stored bytes and manifest quantization. float16: IEEE half (floatToHalf).
 * uint8: q = round((clip(x, min, max) - min) / scale) with scale = (max - min) / 255, read back as
 * q * scale + min (tfjs-core io decodeWeights); when the range holds 0, min is nudged to
 * -round(-min / scale) * scale so that 0 (zero padding, ReLU's floor) is stored exactly
 * (tfjs-converter quantization.py, after TF Lite's NudgeQuantizationRange); a constant tensor
 * stores zeros with min = its value, scale 1.
 */
export function quantizeTensor(data: Float32Array, storage: Exclude<WeightDtype, 'float32'>): { bytes: Uint8Array; quantization: WeightQuantization } {
  if (storage === 'float16') {
    // the host's byte order, as the float32 tensors here and as tfjs-core reads them (a Uint16Array view)
    const half = encodeHalf(data);
    return { bytes: new Uint8Array(half.buffer), quantization: { dtype: 'float16' } };
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of data) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const q = new Uint8Array(data.length);
  if (!(hi > lo)) return { bytes: q, quantization: { dtype: 'uint8', min: Number.isFinite(lo) ? lo : 0, scale: 1 } };
  const scale = (hi - lo) / 255;
  let min = lo;
  let max = hi;
  if (lo <= 0 && 0 <= hi) {
    min = -Math.round(-lo / scale) * scale;
    max = 255 * scale + min;
  }
  for (let i = 0; i < data.length; i++) q[i] = Math.round((Math.min(max, Math.max(min, data[i])) - min) / scale);
  return { bytes: q, quantization: { dtype: 'uint8', min, scale } };
}

/** A weight store as one manifest group, in key order, in a single shard. */
export function encodeWeights(store: WeightStore): { manifest: WeightsManifestEntry[]; weightData: Uint8Array } {
  const keys = [...store.keys()].sort();
  return packWeights(keys.map((name) => ({ name, dtype: 'float32', shape: store.get(name)!.shape, data: store.get(name)!.data })));
}

/** The inverse of encodeWeights; throws with a sentence when the bytes do not fit the manifest. */
export function decodeWeights(manifest: WeightsManifestEntry[], read: (path: string) => Uint8Array): WeightStore {
  const store: WeightStore = new Map();
  for (const group of manifest) {
    const bytes = group.paths.map(read);
    const joined = new Uint8Array(bytes.reduce((s, b) => s + b.length, 0));
    let off = 0;
    for (const b of bytes) {
      joined.set(b, off);
      off += b.length;
    }
    const floats = new Float32Array(joined.buffer, joined.byteOffset, Math.floor(joined.length / 4));
    let at = 0;
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (w.dtype !== 'float32' || w.quantization) throw new Error(`weight '${w.name}' is ${w.quantization ? `stored as ${w.quantization.dtype}` : w.dtype}; a checkpoint holds float32 only`);
      if (at + n > floats.length) throw new Error(`${group.paths.join(', ')} holds ${floats.length} values, fewer than the manifest lists`);
      store.set(w.name, { shape: w.shape, data: floats.slice(at, at + n) });
      at += n;
    }
    if (at !== floats.length) throw new Error(`${group.paths.join(', ')} holds ${floats.length} values, the manifest lists ${at}`);
  }
  return store;
}
