// Weights on disk in TF.js's weights-manifest format (weights.json + one weights.bin), the form
// DESIGN.md gives checkpoints; pure conversions here, the CLI writes and reads the bytes.
import type { WeightStore } from './weights.js';

export interface WeightsManifestEntry {
  paths: string[];
  weights: { name: string; shape: number[]; dtype: 'float32' }[];
}

export const WEIGHTS_BIN = 'weights.bin';

/** One manifest group with every tensor, in key order, and its bytes. */
export function encodeWeights(store: WeightStore): { manifest: WeightsManifestEntry[]; data: Uint8Array } {
  const entries = [...store].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const total = entries.reduce((s, [, t]) => s + t.data.length, 0);
  const all = new Float32Array(total);
  let at = 0;
  for (const [, t] of entries) {
    all.set(t.data, at);
    at += t.data.length;
  }
  return {
    manifest: [{ paths: [WEIGHTS_BIN], weights: entries.map(([name, t]) => ({ name, shape: t.shape, dtype: 'float32' })) }],
    data: new Uint8Array(all.buffer),
  };
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
      if (w.dtype !== 'float32') throw new Error(`weight '${w.name}' is ${w.dtype}; only float32 is supported`);
      if (at + n > floats.length) throw new Error(`${group.paths.join(', ')} holds ${floats.length} values, fewer than the manifest lists`);
      store.set(w.name, { shape: w.shape, data: floats.slice(at, at + n) });
      at += n;
    }
    if (at !== floats.length) throw new Error(`${group.paths.join(', ')} holds ${floats.length} values, the manifest lists ${at}`);
  }
  return store;
}
