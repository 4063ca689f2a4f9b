// Weights on disk in TF.js's weights-manifest format (a manifest group of names, shapes and
// dtypes plus binary shards), as graph models and checkpoints both store them. Pure: bytes in
// and out; the CLI writes and reads the files.
import type { WeightStore } from './weights.js';

export interface ManifestTensor {
  name: string;
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface WeightsManifestEntry {
  paths: string[];
  weights: { name: string; shape: number[]; dtype: 'float32' | 'int32' }[];
}

/** One manifest group with every tensor in order; its bytes are cut into `group1-shardKofN.bin` every `shardBytes`. */
export function packWeights(tensors: readonly ManifestTensor[], shardBytes = Infinity): { manifest: WeightsManifestEntry[]; weightData: Uint8Array } {
  const total = tensors.reduce((s, t) => s + t.data.byteLength, 0);
  const weightData = new Uint8Array(total);
  let at = 0;
  for (const t of tensors) {
    weightData.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  const shards = Math.max(1, Math.ceil(total / shardBytes));
  const paths = Array.from({ length: shards }, (_, i) => `group1-shard${i + 1}of${shards}.bin`);
  return { manifest: [{ paths, weights: tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: t.dtype })) }], weightData };
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
      if (w.dtype !== 'float32') throw new Error(`weight '${w.name}' is ${w.dtype}; a checkpoint holds float32 only`);
      if (at + n > floats.length) throw new Error(`${group.paths.join(', ')} holds ${floats.length} values, fewer than the manifest lists`);
      store.set(w.name, { shape: w.shape, data: floats.slice(at, at + n) });
      at += n;
    }
    if (at !== floats.length) throw new Error(`${group.paths.join(', ')} holds ${floats.length} values, the manifest lists ${at}`);
  }
  return store;
}
