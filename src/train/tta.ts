// Test-time augmentation: a Predictor whose probabilities are the mean over transformed copies of
// the image, each copy's prediction mapped back to the image's own pixel grid before averaging.
// The transforms are augment.ts's dihedral ones (pure index maps, exact): `flips` the identity and
// the three mirror images (left-right, top-bottom, both = 180 degrees), `dihedral` all 8 symmetries of
// the square (the 4 rotations and their mirror images; 4 of them transpose a non-square image,
// which a fully convolutional network takes as any other size: the predictor pads each image to its
// stride on its own). Each copy is one full prediction, so TTA costs 4x (flips) or 8x (dihedral) the time.
import { dihedral, inverseDihedral } from './augment.js';
import type { TtaMode } from './choices.js';
import type { Predictor } from './infer.js';
import type { HwcImage } from './image.js';

export { TTA_MODES, type TtaMode } from './choices.js';

/**
 * The dihedral transforms (augment.ts `dihedral` k) a mode averages over: none [0]; flips [0, 4, 6, 2]
 * (identity, mirror left-right, mirror top-bottom, rotate 180 = both mirrors); dihedral 0..7.
 */
export function ttaTransforms(mode: TtaMode): number[] {
  return { none: [0], flips: [0, 4, 6, 2], dihedral: [0, 1, 2, 3, 4, 5, 6, 7] }[mode];
}

/**
 * Class-major planes [K, h*w] predicted on `dihedral(image, k)` (so each plane is at that copy's
 * size: transposed for odd k) mapped back to the image's h x w grid: plane c at (y, x) is the copy's
 * value at the pixel where (y, x) went.
 */
export function unTransformPlanes(planes: Float32Array, classes: number, k: number, height: number, width: number): Float32Array {
  const n = height * width;
  if (planes.length !== classes * n) throw new Error(`unTransformPlanes: ${planes.length} values for ${classes} planes of ${height}x${width}`);
  if (k === 0) return planes;
  const [th, tw] = k % 2 ? [width, height] : [height, width];
  const out = new Float32Array(planes.length);
  const back = inverseDihedral(k);
  for (let c = 0; c < classes; c++) out.set(dihedral({ data: planes.subarray(c * n, (c + 1) * n), height: th, width: tw, channels: 1 }, back).data, c * n);
  return out;
}

/**
 * A predictor whose `predict(image)` is the mean of `predictor.predict` over the transforms of
 * `mode` (ttaTransforms), each prediction mapped back (unTransformPlanes): class-major probabilities
 * [K, H*W] at the image's size, as Predictor.predict gives them. The mean of softmax outputs still sums
 * to 1 per pixel. `none` returns the predictor itself. dispose() disposes the wrapped predictor.
 */
export function withTta(predictor: Predictor, mode: TtaMode): Predictor {
  if (mode === 'none') return predictor;
  const ks = ttaTransforms(mode);
  async function predict(image: HwcImage): Promise<Float32Array> {
    const { height: h, width: w } = image;
    const sum = new Float32Array(predictor.classes * h * w);
    for (const k of ks) {
      const planes = unTransformPlanes(await predictor.predict(k ? dihedral(image, k) : image), predictor.classes, k, h, w);
      for (let i = 0; i < sum.length; i++) sum[i] += planes[i];
    }
    for (let i = 0; i < sum.length; i++) sum[i] /= ks.length;
    return sum;
  }
  return { predict, engine: predictor.engine, classes: predictor.classes, stride: predictor.stride, dispose: () => predictor.dispose() };
}
