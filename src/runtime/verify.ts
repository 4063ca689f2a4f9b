// Numeric verification: two forms of a network must compute the same function. The training form
// runs in inference mode with randomized BatchNorm statistics (fresh ones would hide a wrong fold).
import type { Tensor4D } from '@tensorflow/tfjs';
import type { IrGraph } from '../ir/graph.js';
import type { TF } from './backend.js';
import { forward, toTensors } from './executor.js';
import { rng, type WeightStore } from '../ir/weights.js';

export interface Comparison {
  maxAbs: number;
  meanAbs: number;
  /** largest |reference| on the same inputs, so the error can be read relative to the scale */
  maxRef: number;
}

/**
 * A seeded NHWC batch: noise with a random brightness and contrast per image and channel, so
 * global pools differ between images as they do on real data (on plain iid noise they are nearly
 * constant, and a BatchNorm after a global pool divides rounding noise by a ~0 deviation).
 */
export function randomInput(shape: [number, number, number, number], seed: number): Float32Array {
  const r = rng(seed);
  const [n, h, w, c] = shape;
  const offset = Float32Array.from({ length: n * c }, () => r.normal());
  const scale = Float32Array.from({ length: n * c }, () => 0.5 + r.uniform());
  const out = new Float32Array(n * h * w * c);
  for (let i = 0; i < out.length; i++) {
    const k = Math.floor(i / (h * w * c)) * c + (i % c);
    out[i] = offset[k] + scale[k] * r.normal();
  }
  return out;
}

export function compareOutputs(reference: Float32Array, candidate: Float32Array): Comparison {
  if (reference.length !== candidate.length) throw new Error(`output sizes differ: ${reference.length} vs ${candidate.length}`);
  let maxAbs = 0;
  let sum = 0;
  let maxRef = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(reference[i] - candidate[i]);
    if (!(d <= maxAbs)) maxAbs = Number.isNaN(d) ? Infinity : d;
    sum += d;
    maxRef = Math.max(maxRef, Math.abs(reference[i]));
  }
  return { maxAbs, meanAbs: sum / reference.length, maxRef };
}

/** Runs a graph on an input in inference mode and returns the logits as a flat NHWC array. */
export async function runForm(tf: TF, g: IrGraph, weights: WeightStore, input: Float32Array, shape: [number, number, number, number]): Promise<Float32Array> {
  const w = toTensors(tf, weights);
  const x = tf.tensor4d(input, shape);
  try {
    const y = forward(tf, g, w, x as Tensor4D);
    const data = (await y.data()) as Float32Array;
    y.dispose();
    return data;
  } finally {
    x.dispose();
    for (const t of w.values()) t.dispose();
  }
}

/**
 * Weights as after training, for checking passes on untrained networks: BatchNorm gamma and beta
 * random, and running statistics measured by a forward pass in training mode on a seeded batch,
 * so activations keep a trained network's scale. With fresh statistics (mean 0, var 1) a wrong
 * fold goes unnoticed; with arbitrary ones 22 RepVGG blocks grow the logits to ~1e5, where fp32
 * rounding alone exceeds any absolute tolerance (perturbing measured ones by 10 % still gives ~1e2).
 */
const MIN_CALIBRATED_VARIANCE = 1e-2;

export async function calibratedWeights(tf: TF, g: IrGraph, weights: WeightStore, shape: [number, number, number, number], seed: number): Promise<WeightStore> {
  const r = rng(seed);
  const out: WeightStore = new Map(weights);
  const set = (node: string, name: string, data: Float32Array) => out.set(`${node}:${name}`, { shape: [data.length], data });
  for (const n of g.nodes) {
    if (n.op !== 'bn') continue;
    const c = n.shape.c;
    set(n.id, 'gamma', Float32Array.from({ length: c }, () => 0.75 + 0.5 * r.uniform()));
    set(n.id, 'beta', Float32Array.from({ length: c }, () => 0.1 * r.normal()));
  }
  const stats = new Map<string, [Float32Array, Float32Array]>();
  const w = toTensors(tf, out);
  const x = tf.tensor4d(randomInput(shape, seed), shape);
  tf.tidy(() => {
    // batch statistics without dropout: random units would make the calibration unrepeatable
    forward(tf, g, w, x as Tensor4D, { training: true, dropout: false, onBatchStats: (id, m, v) => stats.set(id, [m.dataSync() as Float32Array, v.dataSync() as Float32Array]) });
  });
  x.dispose();
  for (const t of w.values()) t.dispose();
  for (const [id, [mean, variance]] of stats) {
    set(id, 'mean', mean);
    // after a global pool a small batch of random images barely varies (seen: var 4e-7), and
    // dividing by that deviation would amplify rounding 300-fold: floor it as data would
    set(id, 'variance', Float32Array.from(variance, (v) => Math.max(v, MIN_CALIBRATED_VARIANCE)));
  }
  return out;
}

/** Default tolerance: 1e-4 absolute on logits within ±1, relative to the largest logit beyond. */
export const VERIFY_TOLERANCE = 1e-4;

export const withinTolerance = (c: Comparison, tolerance = VERIFY_TOLERANCE) => c.maxAbs <= tolerance * Math.max(1, c.maxRef);
