// The template of alcli's TypeScript emitter (src/emit/typescript.ts). The emitter replaces this
// header and the initializers of MODEL_INFO, NORMALIZE and THRESHOLD; everything else is copied
// as it is. It must type-check on its own (strict) with only @tensorflow/tfjs installed.

import * as tf from '@tensorflow/tfjs';

export interface ModelInfo {
  /** the spec's name */
  name: string;
  /** the size the network was compiled for, [height, width] */
  inputSize: readonly [number, number];
  channels: number;
  classes: number;
  /** height and width must divide by this; predict() pads to it (centred, by reflection: padBox) */
  stride: readonly [number, number];
  /** applied by predict() to the graph model's logits */
  activation: 'sigmoid' | 'softmax' | 'none';
  /** true when the network only runs at inputSize (a resize to a fixed size inside) */
  fixedSize: boolean;
}

export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

export interface PredictOptions {
  /** the image is already normalized: skip the mean/std baked into this module */
  normalized?: boolean;
}

export const MODEL_INFO: ModelInfo = {
  name: 'template',
  inputSize: [256, 256],
  channels: 3,
  classes: 1,
  stride: [32, 32],
  activation: 'sigmoid',
  fixedSize: false,
};

/** per-channel (x - mean) / std, in the units of the images the network was trained on; null: none */
export const NORMALIZE: Normalization | null = null;

/** the default cut for threshold() */
export const THRESHOLD = 0.5;

/** Loads the graph model: a model.json URL in a browser, or any tf.io handler (Node: read the files yourself). */
export function load(modelUrl: string | tf.io.IOHandler): Promise<tf.GraphModel> {
  return tf.loadGraphModel(modelUrl);
}

/**
 * Probabilities for one image (H x W x C) or a batch (N x H x W x C): normalizes, pads to the
 * network stride by reflection, centred as `alcli predict` does (padBox), runs the model, crops
 * back and applies the output activation (sigmoid per class, or softmax over classes).
 */
export function predict(model: tf.GraphModel, image: tf.Tensor3D, opts?: PredictOptions): tf.Tensor3D;
export function predict(model: tf.GraphModel, image: tf.Tensor4D, opts?: PredictOptions): tf.Tensor4D;
export function predict(model: tf.GraphModel, image: tf.Tensor3D | tf.Tensor4D, opts: PredictOptions = {}): tf.Tensor3D | tf.Tensor4D {
  return tf.tidy(() => {
    const batch: tf.Tensor4D = image.rank === 3 ? tf.expandDims(image as tf.Tensor3D, 0) : (image as tf.Tensor4D);
    const [, h, w, c] = batch.shape;
    if (c !== MODEL_INFO.channels) throw new Error(`${MODEL_INFO.name} takes ${MODEL_INFO.channels}-channel images, got ${c}`);
    if (MODEL_INFO.fixedSize && (h !== MODEL_INFO.inputSize[0] || w !== MODEL_INFO.inputSize[1]))
      throw new Error(`${MODEL_INFO.name} only runs at ${MODEL_INFO.inputSize.join('x')}, got ${h}x${w}: resize the image first`);
    let x = tf.cast(batch, 'float32');
    if (NORMALIZE && !opts.normalized) x = tf.div(tf.sub(x, tf.tensor1d([...NORMALIZE.mean])), tf.tensor1d([...NORMALIZE.std]));
    const box = padBox(h, w);
    const padded = tf.gather(tf.gather(x, reflectedIndices(h, box.top, box.height), 1), reflectedIndices(w, box.left, box.width), 2);
    const logits = tf.slice(model.execute(padded) as tf.Tensor4D, [0, box.top, box.left, 0], [-1, h, w, -1]);
    const probs = MODEL_INFO.activation === 'sigmoid' ? tf.sigmoid(logits) : MODEL_INFO.activation === 'softmax' ? tf.softmax(logits, -1) : logits;
    return image.rank === 3 ? tf.squeeze<tf.Tensor3D>(probs, [0]) : probs;
  });
}

/**
 * Masks from predict()'s output, int32 and of the same rank: 1 where a class's probability
 * reaches `t` (sigmoid outputs), or the most probable class of each pixel (softmax).
 */
export function threshold<T extends tf.Tensor3D | tf.Tensor4D>(probs: T, t: number = THRESHOLD): T {
  return tf.tidy(() => (MODEL_INFO.activation === 'softmax' ? tf.expandDims(tf.argMax(probs, -1), -1) : tf.cast(tf.greaterEqual(probs, t), 'int32')) as T);
}

/**
 * Where an h x w image lies in its padding to the stride (alcli's one rule, ir/stride.ts padBox):
 * the next multiples of the stride, the padding split evenly, the odd pixel at the bottom/right.
 */
export function padBox(h: number, w: number): { top: number; left: number; height: number; width: number } {
  const height = Math.ceil(h / MODEL_INFO.stride[0]) * MODEL_INFO.stride[0];
  const width = Math.ceil(w / MODEL_INFO.stride[1]) * MODEL_INFO.stride[1];
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height, width };
}

/** Source index of each of `size` padded positions, `before` of them ahead of an axis of n: reflected (without repeating the edge) as often as needed. */
function reflectedIndices(n: number, before: number, size: number): tf.Tensor1D {
  const period = Math.max(1, 2 * (n - 1));
  return tf.tensor1d(
    Array.from({ length: size }, (_, i) => {
      const j = (((i - before) % period) + period) % period;
      return j < n ? j : period - j;
    }),
    'int32',
  );
}
