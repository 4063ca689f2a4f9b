// Intensity augmentations, on the image only (never the mask), after the geometric ones. The image
// is already normalized (train-set mean/std), as nnU-Net's are when its transforms run, so these
// follow nnU-Net's definitions (batchgenerators' color and noise transforms) on normalized values.
// Order, as nnU-Net's pipeline: noise, blur, brightness, contrast, gamma. All channels get the same
// factor; contrast and gamma read each channel's own statistics.
import { rng } from '../ir/weights.js';
import type { HwcImage } from './image.js';
import { gaussianBlur } from './warp.js';

/** The drawn values of the intensity augmentations of one sample; an absent one is not applied. */
export interface IntensityDraw {
  /** additive Gaussian noise: its standard deviation, and the seed of its values */
  noise?: { std: number; seed: number };
  /** Gaussian blur sigma, pixels */
  blur?: number;
  /** multiplicative brightness: x * f */
  brightness?: number;
  /** contrast about the channel mean, x -> (x - mean) * f + mean, clipped to the channel's range before */
  contrast?: number;
  /** gamma on the channel's range: min + (max - min) * ((x - min) / (max - min))^g, mean and std kept */
  gamma?: number;
}

/** Per channel: min, max, mean and (population) std of an HWC array. */
function channelStats(data: Float32Array, c: number, ch: number) {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sq = 0;
  for (let i = ch; i < data.length; i += c) {
    const v = data[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sq += v * v;
  }
  const n = data.length / c;
  const mean = sum / n;
  return { min, max, mean, std: Math.sqrt(Math.max(0, sq / n - mean * mean)) };
}

/** The image with the drawn intensity changes, a new array (the input is left as it is). */
export function applyIntensity(img: HwcImage, d: IntensityDraw): HwcImage {
  if (d.noise === undefined && d.blur === undefined && d.brightness === undefined && d.contrast === undefined && d.gamma === undefined) return img;
  const { height: h, width: w, channels: c } = img;
  const x = Float32Array.from(img.data);
  if (d.noise) {
    const r = rng(d.noise.seed);
    for (let i = 0; i < x.length; i++) x[i] += d.noise.std * r.normal();
  }
  if (d.blur !== undefined) gaussianBlur(x, h, w, c, d.blur);
  if (d.brightness !== undefined) for (let i = 0; i < x.length; i++) x[i] *= d.brightness;
  if (d.contrast !== undefined)
    for (let ch = 0; ch < c; ch++) {
      const s = channelStats(x, c, ch);
      for (let i = ch; i < x.length; i += c) x[i] = Math.min(s.max, Math.max(s.min, (x[i] - s.mean) * d.contrast + s.mean));
    }
  if (d.gamma !== undefined)
    for (let ch = 0; ch < c; ch++) {
      const s = channelStats(x, c, ch);
      const range = s.max - s.min;
      if (!(range > 1e-7)) continue;
      for (let i = ch; i < x.length; i += c) x[i] = s.min + range * ((x[i] - s.min) / range) ** d.gamma;
      // nnU-Net's retain_stats: the channel keeps its mean and std
      const t = channelStats(x, c, ch);
      const scale = t.std > 1e-7 ? s.std / t.std : 1;
      for (let i = ch; i < x.length; i += c) x[i] = (x[i] - t.mean) * scale + s.mean;
    }
  return { data: x, height: h, width: w, channels: c };
}
